"""A small OpenID Connect provider on 127.0.0.1 for the console's sign-in tests (a real HTTP server on its thread).

Discovery, JWKS, an ``/authorize`` that approves its configured person at once (or answers ``refuse``), and a
``/token`` that checks the PKCE verifier against the S256 challenge of its code: a wrong or missing verifier is
refused, and every check is recorded in ``verifier_checks``. Codes are single use, as RFC 6749 wants.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CODE_LIFE_S = 60


@dataclass
class Grant:
    """An issued code, and what the token request must repeat."""

    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    issued: float


@functools.cache
def provider_key() -> rsa.RSAPrivateKey:
    """One RSA key per test process (2048-bit generation is slow on a busy machine); its kid changes per provider."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class TestProvider:
    __test__ = False  # not a test class

    def __init__(self, client_id: str = "gga-console", client_secret: str | None = None):
        self.client_id, self.client_secret = client_id, client_secret
        self.key = provider_key()
        self.signing_key = self.key  # another key: ID tokens whose signature the JWKS does not match
        self.kid = f"test-{secrets.token_hex(4)}"
        self.redirect_uris: set[str] = set()
        self.claims: dict[str, Any] = {}  # the person it signs in: sub, acr, roles, name
        self.refuse: str | None = None  # an error /authorize answers instead of a code (access_denied)
        self.id_token_changes: dict[str, Any] = {}  # claims changed in the ID tokens (a wrong aud, nonce, ...)
        self.authorizations: list[dict[str, str]] = []  # every /authorize query as received
        self.verifier_checks: list[bool] = []  # each /token: did S256(code_verifier) match the code's challenge
        self.grants: dict[str, Grant] = {}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @contextmanager
    def running(self) -> Iterator[TestProvider]:
        thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
            thread.join(5)

    def discovery(self) -> dict[str, Any]:
        return {"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic" if self.client_secret else "none"]}

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [jwk | {"kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any]]:
        """A redirect back with a code (or ``refuse``), or a 400 when the client or its redirect is unknown."""
        with self.lock:
            self.authorizations.append(query)
        back = query.get("redirect_uri", "")
        if query.get("client_id") != self.client_id or back not in self.redirect_uris:
            return 400, {}, {"error": "invalid_request"}  # never redirect to an unregistered address
        if self.refuse:
            error = self.refuse
        elif query.get("response_type") != "code" or "openid" not in query.get("scope", "").split():
            error = "invalid_request"
        elif query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            error = "invalid_request"  # PKCE is required, and only S256
        else:
            code = secrets.token_urlsafe(24)
            with self.lock:
                self.grants[code] = Grant(self.client_id, back, query["code_challenge"], query.get("nonce"),
                                          time.time())
            return 302, {"Location": f"{back}?{urlencode({'code': code, 'state': query.get('state', '')})}"}, {}
        return 302, {"Location": f"{back}?{urlencode({'error': error, 'state': query.get('state', '')})}"}, {}

    def token(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict[str, Any]]:
        if not self._client_ok(form, authorization):
            return 401, {"error": "invalid_client"}
        with self.lock:
            grant = self.grants.pop(form.get("code", ""), None)  # single use, even when refused below
        if form.get("grant_type") != "authorization_code" or grant is None or \
                time.time() - grant.issued > CODE_LIFE_S or form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "")
        matches = 43 <= len(verifier) <= 128 and secrets.compare_digest(s256(verifier), grant.challenge)
        with self.lock:
            self.verifier_checks.append(matches)
        if not matches:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        return 200, {"access_token": secrets.token_urlsafe(24), "token_type": "Bearer", "expires_in": 300,
                     "id_token": self.id_token(grant.nonce)}

    def _client_ok(self, form: dict[str, str], authorization: str | None) -> bool:
        if self.client_secret is None:
            return form.get("client_id") == self.client_id
        if not authorization or not authorization.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
        return unquote(user) == self.client_id and secrets.compare_digest(unquote(password), self.client_secret)

    def id_token(self, nonce: str | None) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.client_id, "iat": now, "exp": now + 300, "auth_time": now,
                  **({"nonce": nonce} if nonce else {}), **self.claims, **self.id_token_changes}
        return jwt.encode({k: v for k, v in claims.items() if v is not None}, self.signing_key, algorithm="RS256",
                          headers={"kid": self.kid})


def _handler(provider: TestProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/.well-known/openid-configuration":
                self._answer(200, {}, provider.discovery())
            elif url.path == "/jwks":
                self._answer(200, {}, provider.jwks())
            elif url.path == "/authorize":
                self._answer(*provider.authorize(dict(parse_qsl(url.query))))
            else:
                self._answer(404, {}, {"error": "not_found"})

        def do_POST(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), 65536)
            form = dict(parse_qsl(self.rfile.read(length).decode()))
            if urlsplit(self.path).path != "/token":
                self._answer(404, {}, {"error": "not_found"})
                return
            status, body = provider.token(form, self.headers.get("Authorization"))
            self._answer(status, {"Cache-Control": "no-store"}, body)

        def _answer(self, status: int, headers: dict[str, str], body: dict[str, Any]) -> None:
            data = json.dumps(body).encode() if body else b""
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
            pass

    return Handler
