"""RFC 7523 ``private_key_jwt`` client assertions, verified with a registered certificate's public key."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jwt
from cryptography import x509

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"]
MAX_LIFETIME = 300  # seconds an assertion may live: "exp short"


class AssertionInvalid(Exception):
    pass


def unverified_issuer(assertion: str) -> str:
    try:
        return str(jwt.decode(assertion, options={"verify_signature": False}).get("iss", ""))
    except jwt.PyJWTError as exc:
        raise AssertionInvalid(f"not a JWT: {exc}") from exc


def verify(assertion: str, certificates: Sequence[x509.Certificate], audiences: Sequence[str],
           subject: str, now: float) -> dict[str, Any]:
    """Signature by one of the certificates' keys, iss = sub = ``subject``, aud, exp short, jti present."""
    last: Exception | None = None
    for cert in certificates:
        try:
            claims = jwt.decode(assertion, cert.public_key(), algorithms=ALGORITHMS, audience=list(audiences),
                                issuer=subject, options={"require": ["exp", "iss", "sub", "aud", "jti"]},
                                leeway=30)
        except jwt.InvalidSignatureError as exc:
            last = exc
            continue
        except jwt.PyJWTError as exc:
            raise AssertionInvalid(str(exc)) from exc
        if claims["sub"] != subject:
            raise AssertionInvalid("sub must equal iss")
        if claims["exp"] - now > MAX_LIFETIME + 30:
            raise AssertionInvalid(f"exp more than {MAX_LIFETIME} s ahead")
        return claims
    raise AssertionInvalid(f"not signed by a registered WS certificate ({last})")
