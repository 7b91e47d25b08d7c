"""Bearer tokens of admin-API callers: verification against JWKS, and the local development issuer."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from keys.files import key_lock, write_private

DEV_ISSUER = "gga-dev-issuer"
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"]


class TokenInvalid(Exception):
    """The token is missing, malformed, expired, or from no trusted issuer."""


@dataclass(frozen=True)
class TrustedIssuer:
    issuer: str
    audience: str
    jwks: jwt.PyJWKSet | None = None
    jwks_client: jwt.PyJWKClient | None = None

    def key_for(self, token: str) -> Any:
        if self.jwks_client is not None:
            return self.jwks_client.get_signing_key_from_jwt(token).key
        kid = jwt.get_unverified_header(token).get("kid")
        assert self.jwks is not None
        keys = [k for k in self.jwks.keys if kid is None or k.key_id == kid]
        if not keys:
            raise TokenInvalid("no key with this kid")
        return keys[0].key


class TokenVerifier:
    def __init__(self, issuers: list[TrustedIssuer]):
        self.issuers = {i.issuer: i for i in issuers}

    def verify(self, token: str) -> dict[str, Any]:
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
            issuer = self.issuers.get(unverified.get("iss", ""))
            if issuer is None:
                raise TokenInvalid("token from an issuer that is not trusted")
            return jwt.decode(token, issuer.key_for(token), algorithms=ALGORITHMS, audience=issuer.audience,
                              issuer=issuer.issuer, options={"require": ["exp", "sub", "iss"]})
        except (jwt.PyJWTError, ValueError, KeyError) as exc:
            raise TokenInvalid(str(exc)) from exc


def jwks_from_file(path: Path) -> jwt.PyJWKSet:
    return jwt.PyJWKSet.from_json(path.read_text())


class DevIssuer:
    """A local ES256 key under ``<data>/dev-issuer/``: demo and tests only, never trusted by default."""

    def __init__(self, data_dir: Path):
        self.folder = data_dir / "dev-issuer"
        self.key_path = self.folder / "private.pem"

    @property
    def exists(self) -> bool:
        return self.key_path.exists()

    def ensure(self) -> DevIssuer:
        with key_lock(self.folder):
            if not self.exists:
                key = ec.generate_private_key(ec.SECP256R1())
                pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
                write_private(self.key_path, pem)
        return self

    def _key(self) -> ec.EllipticCurvePrivateKey:
        key = serialization.load_pem_private_key(self.key_path.read_bytes(), None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key

    def jwks(self) -> jwt.PyJWKSet:
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self._key().public_key()))
        jwk.update({"kid": "dev", "use": "sig", "alg": "ES256"})
        return jwt.PyJWKSet([jwk])

    def trusted(self, audience: str) -> TrustedIssuer:
        return TrustedIssuer(DEV_ISSUER, audience, jwks=self.jwks())

    def mint(self, niss: str, audience: str, loa: str = "eid", roles: list[str] | None = None,
             lifetime: int = 3600) -> str:
        now = int(time.time())
        claims = {"iss": DEV_ISSUER, "aud": audience, "sub": niss, "acr": loa, "roles": roles or [],
                  "iat": now, "exp": now + lifetime, "jti": uuid.uuid4().hex}
        return jwt.encode(claims, self._key(), algorithm="ES256", headers={"kid": "dev"})
