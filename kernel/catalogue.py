"""The application catalogue and the domain kinds that offer them.

Codes are the 4-letter ``AAAA`` of batch file names. DMFA, DIMN, WECH, AOAT, ZIMA, DUCN and PUBL are the real
channel's; CHTP, ECAR, RCAD and CAPE are this project's codes for the guide's other applications (docs/decisions.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from kernel.errors import ErrorCode, GGAError

EMPLOYER_ONSS = "Employeur ONSS"
SOCIAL_SECRETARIAT = "Secrétariat social agréé"
SERVICE_PROVIDER = "Prestataire de services sociaux"


@dataclass(frozen=True)
class Application:
    code: str
    name_fr: str
    name_nl: str
    name_en: str
    domains: tuple[str, ...]
    # value of Form/Identification in the application's XML, when it has one
    form_identification: str | None = None
    max_size_mb: int = 500

    def name_in(self, lang: str) -> str:
        """The name in ``lang`` (fr, nl, en); French for any other."""
        return {"nl": self.name_nl, "en": self.name_en}.get(lang, self.name_fr)


_ALL = (EMPLOYER_ONSS, SOCIAL_SECRETARIAT, SERVICE_PROVIDER)

APPLICATIONS: dict[str, Application] = {a.code: a for a in [
    Application("PUBL", "Publiato", "Publiato", "Publiato", (EMPLOYER_ONSS,)),
    Application("DMFA", "Déclaration multifonctionnelle DmfA", "Multifunctionele aangifte DmfA",
                "Multifunctional declaration DmfA", _ALL, "DMFA"),
    Application("CHTP", "Chômage temporaire", "Tijdelijke werkloosheid", "Temporary unemployment", _ALL),
    Application("ECAR", "Ecaro batch", "Ecaro batch", "Ecaro batch", _ALL),
    Application("DIMN", "DIMONA V2: Déclaration Immédiate à l'emploi", "DIMONA V2: Onmiddellijke aangifte",
                "DIMONA V2: Immediate declaration of employment", _ALL, "DIMONA"),
    Application("DUCN", "Déclaration unique de chantier", "Eenmalige aangifte van werken",
                "Single declaration of works", _ALL),
    Application("WECH", "Déclaration des risques sociaux: chômage", "Aangifte sociaal risico: werkloosheid",
                "Declaration of social risks: unemployment", _ALL, "WECH"),
    Application("AOAT", "Déclaration des risques sociaux: accidents du travail",
                "Aangifte sociaal risico: arbeidsongevallen", "Declaration of social risks: accidents at work", _ALL,
                "AOAT"),
    Application("ZIMA", "Déclaration des risques sociaux: maladie", "Aangifte sociaal risico: ziekte",
                "Declaration of social risks: sickness", _ALL, "ZIMA"),
    Application("RCAD", "Retraites complémentaires administrateur", "Aanvullende pensioenen bestuurder",
                "Supplementary pensions of company directors", (EMPLOYER_ONSS,)),
    Application("CAPE", "Déclaration électronique au Cadastre des Pensions (layout plat)",
                "Elektronische aangifte aan het Pensioenkadaster (plat formaat)",
                "Electronic declaration to the Pensions Cadastre (flat layout)", (EMPLOYER_ONSS,)),
]}

DOMAIN_KINDS: tuple[str, ...] = _ALL


def applications_of_domain(kind: str) -> list[str]:
    return sorted(code for code, app in APPLICATIONS.items() if kind in app.domains)


def require_known(codes: list[str] | set[str]) -> None:
    """Every code is an application of the catalogue, else APPLICATION_UNKNOWN naming those that are not (before
    any rule of a domain or channel, which would name the wrong fault: "not offered in this domain")."""
    unknown = sorted({c.upper() for c in codes} - APPLICATIONS.keys())
    if unknown:
        raise GGAError(ErrorCode.APPLICATION_UNKNOWN, details={"applications": unknown}, key="application_unknown")
