"""The application catalogue and the domain kinds that offer them.

Codes are the 4-letter ``AAAA`` of batch file names. DMFA, DIMN, WECH, AOAT, ZIMA, DUCN and PUBL are the real
channel's; CHTP, ECAR, RCAD and CAPE are this project's codes for the guide's other applications (docs/decisions.md).
"""

from __future__ import annotations

from dataclasses import dataclass

EMPLOYER_ONSS = "Employeur ONSS"
SOCIAL_SECRETARIAT = "Secrétariat social agréé"
SERVICE_PROVIDER = "Prestataire de services sociaux"


@dataclass(frozen=True)
class Application:
    code: str
    name_fr: str
    name_nl: str
    domains: tuple[str, ...]
    # value of Form/Identification in the application's XML, when it has one
    form_identification: str | None = None
    max_size_mb: int = 500


_ALL = (EMPLOYER_ONSS, SOCIAL_SECRETARIAT, SERVICE_PROVIDER)

APPLICATIONS: dict[str, Application] = {a.code: a for a in [
    Application("PUBL", "Publiato", "Publiato", (EMPLOYER_ONSS,)),
    Application("DMFA", "Déclaration multifonctionnelle DmfA", "Multifunctionele aangifte DmfA", _ALL, "DMFA"),
    Application("CHTP", "Chômage temporaire", "Tijdelijke werkloosheid", _ALL),
    Application("ECAR", "Ecaro batch", "Ecaro batch", _ALL),
    Application("DIMN", "DIMONA V2: Déclaration Immédiate à l'emploi", "DIMONA V2: Onmiddellijke aangifte",
                _ALL, "DIMONA"),
    Application("DUCN", "Déclaration unique de chantier", "Eenmalige aangifte van werken", _ALL),
    Application("WECH", "Déclaration des risques sociaux: chômage", "Aangifte sociaal risico: werkloosheid",
                _ALL, "WECH"),
    Application("AOAT", "Déclaration des risques sociaux: accidents du travail",
                "Aangifte sociaal risico: arbeidsongevallen", _ALL, "AOAT"),
    Application("ZIMA", "Déclaration des risques sociaux: maladie", "Aangifte sociaal risico: ziekte", _ALL, "ZIMA"),
    Application("RCAD", "Retraites complémentaires administrateur", "Aanvullende pensioenen bestuurder",
                (EMPLOYER_ONSS,)),
    Application("CAPE", "Déclaration électronique au Cadastre des Pensions (layout plat)",
                "Elektronische aangifte aan het Pensioenkadaster (plat formaat)", (EMPLOYER_ONSS,)),
]}

DOMAIN_KINDS: tuple[str, ...] = _ALL


def applications_of_domain(kind: str) -> list[str]:
    return sorted(code for code, app in APPLICATIONS.items() if kind in app.domains)
