"""Who is calling: a person identified by NISS, with a level of assurance and platform roles."""

from __future__ import annotations

from dataclasses import dataclass, field

from kernel.settings import Settings
from keys.tokens import DevIssuer, TokenVerifier, TrustedIssuer, jwks_from_file


@dataclass(frozen=True)
class Caller:
    niss: str | None  # None: anonymous (only the exceptional procedure allows it)
    loa: str = "low"
    platform_roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def has_eid(self) -> bool:
        return self.loa == "eid"

    @property
    def label(self) -> str:
        return self.niss or "anonymous"


ANONYMOUS = Caller(None)


def build_verifier(settings: Settings, dev_issuer: bool) -> TokenVerifier:
    import jwt

    issuers: list[TrustedIssuer] = []
    if settings.jwt_issuer and settings.jwks_file:
        issuers.append(TrustedIssuer(settings.jwt_issuer, settings.jwt_audience,
                                     jwks=jwks_from_file(settings.jwks_file)))
    elif settings.jwt_issuer and settings.jwks_url:
        issuers.append(TrustedIssuer(settings.jwt_issuer, settings.jwt_audience,
                                     jwks_client=jwt.PyJWKClient(settings.jwks_url)))
    if dev_issuer:
        issuers.append(DevIssuer(settings.resolved_data_dir).ensure().trusted(settings.jwt_audience))
    return TokenVerifier(issuers)


def caller_from_claims(claims: dict) -> Caller:
    roles = claims.get("roles") or []
    if isinstance(roles, str):
        roles = roles.split()
    return Caller(niss=str(claims["sub"]), loa=str(claims.get("acr", "low")),
                  platform_roles=frozenset(r for r in roles if r in {"operator", "ops"}))
