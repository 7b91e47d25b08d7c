"""RFC 7523 ``private_key_jwt`` client assertions, verified with a registered certificate's public key.

Whatever the sender sends, the only failure is ``AssertionInvalid``: PyJWT raises ``TypeError`` or ``ValueError``
(not its own errors) when the key does not fit the algorithm, e.g. an ES256 assertion for an RSA certificate.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography import x509

from keys.cms import VerificationPolicy, certificate_refusal, warn_if_weak

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"]
MAX_LIFETIME = 300  # seconds an assertion may live: "exp short"
_NOT_THIS_KEY = (jwt.InvalidSignatureError, jwt.InvalidKeyError, TypeError, ValueError)


class AssertionInvalid(Exception):
    pass


def unverified_issuer(assertion: str) -> str:
    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except (jwt.PyJWTError, TypeError, ValueError) as exc:
        raise AssertionInvalid(f"not a JWT: {exc}") from exc
    issuer = claims.get("iss", "")
    if not isinstance(issuer, str):
        raise AssertionInvalid("iss is not a string")
    return issuer


def verify(assertion: str, certificates: Sequence[x509.Certificate], audiences: Sequence[str],
           subject: str, now: float, policy: VerificationPolicy | None = None) -> dict[str, Any]:
    """Signature by one of the certificates' keys, iss = sub = ``subject``, aud, exp short, jti present. Only
    certificates an FS would be accepted with count: valid now, chaining to the trust store, not revoked."""
    last: Exception | None = None
    at = datetime.fromtimestamp(now, UTC)
    policy = policy or VerificationPolicy()
    refusals = {id(c): certificate_refusal(c, at, policy) for c in certificates}
    current = [c for c in certificates if refusals[id(c)] is None]
    if certificates and not current:  # expired (a rollover's old one), revoked or untrusted: no service
        reasons = sorted({str(r.code) for r in refusals.values() if r is not None})
        raise AssertionInvalid(f"no registered WS certificate may be used now ({', '.join(reasons)})")
    for cert in current:
        try:
            claims = jwt.decode(assertion, cert.public_key(), algorithms=ALGORITHMS, audience=list(audiences),
                                issuer=subject, options={"require": ["exp", "iss", "sub", "aud", "jti"]},
                                leeway=30)
        except _NOT_THIS_KEY as exc:  # a key of another type (rollover RSA -> EC) is not a broken assertion
            last = exc
            continue
        except jwt.PyJWTError as exc:
            raise AssertionInvalid(str(exc)) from exc
        _check_claims(claims, subject, now)
        warn_if_weak(cert, "client assertion")
        return claims
    for cert in certificates:  # signed with a registered one that may not serve now: said so, not "not registered"
        refusal = refusals[id(cert)]
        if refusal is not None and _signed_by(assertion, cert):
            raise AssertionInvalid(f"signed by a registered WS certificate that may not be used now ({refusal.code}: "
                                   f"{refusal.message.rstrip('.')})")
    raise AssertionInvalid(f"not signed by a registered WS certificate ({last})")


def _signed_by(assertion: str, cert: x509.Certificate) -> bool:
    """Does the signature verify with this certificate's key (nothing else checked)?"""
    try:
        jwt.decode(assertion, cert.public_key(), algorithms=ALGORITHMS,
                   options={"verify_exp": False, "verify_aud": False, "verify_iss": False, "verify_nbf": False,
                            "verify_iat": False})
    except jwt.PyJWTError:
        return False
    except (TypeError, ValueError):  # a key of a type the algorithm does not take
        return False
    return True


def _check_claims(claims: dict[str, Any], subject: str, now: float) -> None:
    if claims["sub"] != subject:
        raise AssertionInvalid("sub must equal iss")
    exp = claims["exp"]
    if not isinstance(exp, int | float) or exp - now > MAX_LIFETIME + 30:
        raise AssertionInvalid(f"exp more than {MAX_LIFETIME} s ahead")
