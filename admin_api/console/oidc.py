"""Console sign-in through OpenID Connect: the authorization code flow with PKCE (S256) against ``GGA_OIDC_ISSUER``.

``/console/oidc/login`` reads the issuer's discovery document, keeps the state, the nonce, the PKCE verifier and the
page to come back to in a short-lived signed cookie (path /console/oidc, ``HttpOnly``, ``SameSite=Lax`` so the
provider's redirect brings it back), and sends the browser to the authorization endpoint. ``/console/oidc/callback``
checks the state, exchanges the code with the verifier, validates the ID token (signature with the issuer's JWKS,
iss, aud, exp, nonce) and opens the console session as the API reads a bearer token (``caller_from_claims``). Any
failure is the error page, never a 500; the login cookie is deleted whatever the outcome (single use). Authlib builds
the protocol's requests; PyJWT (as for the API's tokens) checks the ID token.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from admin_api.console.labels import label
from admin_api.console.places import name_of
from admin_api.console.web import (
    PREFIX,
    language,
    local_path,
    open_session,
    render,
    secret,
    secure_cookies,
    see_other,
    services,
)
from admin_api.identity import Caller, caller_from_claims
from kernel import identifiers
from kernel.errors import GGAError
from kernel.settings import Settings
from keys.tokens import ALGORITHMS

log = logging.getLogger("gga.console.oidc")
router = APIRouter()

LOGIN_COOKIE = "gga_oidc"
LOGIN_PATH = PREFIX + "/oidc"  # the login cookie goes only to the callback
LOGIN_MAX_AGE_S = 600  # time to sign in at the provider
CALLBACK = LOGIN_PATH + "/callback"
HTTP_TIMEOUT_S = 10
DISCOVERY_TTL_S = 3600  # the discovery document is read again after this (keys rotate through the JWKS client)
LEEWAY_S = 30  # clock difference tolerated with the provider
ERROR_WORD = re.compile(r"[a-z_]{1,40}")  # RFC 6749 error codes; anything else is not shown


class SignInFailed(Exception):
    """Why the sign-in stopped: a label shown on the error page, with its status."""

    def __init__(self, key: str, status: int = 400, **params: str):
        super().__init__(key)
        self.key, self.status, self.params = key, status, params


@dataclass(frozen=True)
class Provider:
    """What the discovery document says, and the issuer's keys (fetched again for an unknown ``kid``)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    keys: jwt.PyJWKClient
    algorithms: tuple[str, ...]


_discovered: dict[str, tuple[float, Provider]] = {}
_discovering = threading.Lock()


def configured(settings: Settings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_client_id)


def issuer_label(settings: Settings) -> str | None:
    """The name shown on the sign-in button when an OpenID Connect issuer is configured (None: no button)."""
    if not configured(settings):
        return None
    return settings.oidc_name or urlsplit(settings.oidc_issuer or "").hostname or settings.oidc_issuer


def redirect_uri(settings: Settings) -> str:
    """Registered at the provider: the public URL's callback (behind a proxy, set ``GGA_PUBLIC_URL``)."""
    return settings.resolved_public_url + CALLBACK


def provider(settings: Settings) -> Provider:
    """The issuer's endpoints and keys, read once an hour (a failed read is not kept)."""
    issuer = (settings.oidc_issuer or "").rstrip("/")
    with _discovering:
        known = _discovered.get(issuer)
        if known is None or time.monotonic() - known[0] > DISCOVERY_TTL_S:
            known = _discovered[issuer] = (time.monotonic(), _discover(issuer))
    return known[1]


def _discover(issuer: str) -> Provider:
    try:
        answer = httpx.get(issuer + "/.well-known/openid-configuration", timeout=HTTP_TIMEOUT_S)
        answer.raise_for_status()
        meta = answer.json()
        if str(meta["issuer"]).rstrip("/") != issuer:  # OpenID Connect Discovery 4.3
            raise ValueError(f"discovery names another issuer: {meta['issuer']}")
        offered = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
        return Provider(meta["issuer"], meta["authorization_endpoint"], meta["token_endpoint"],
                        jwt.PyJWKClient(meta["jwks_uri"], cache_keys=True, lifespan=DISCOVERY_TTL_S,
                                        timeout=HTTP_TIMEOUT_S),
                        tuple(a for a in offered if a in ALGORITHMS) or ("RS256",))
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        log.warning("OpenID Connect discovery of %s failed: %s", issuer, exc)
        raise SignInFailed("signin.oidc_unreachable", 502) from exc


def _signer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret(services(request).settings), salt="gga-console-oidc")


def _failed(request: Request, failure: SignInFailed) -> HTMLResponse:
    message = label(failure.key, language(request), **failure.params)
    return render(request, "error.html", failure.status, code=failure.key, message=message)


@router.get("/oidc/login", response_class=HTMLResponse)
def login(request: Request, next: str | None = None) -> Response:
    settings = services(request).settings
    if not configured(settings):
        return _failed(request, SignInFailed("signin.oidc_off", 404))
    try:
        found = provider(settings)
    except SignInFailed as failure:
        return _failed(request, failure)
    state, nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    target = prepare_grant_uri(found.authorization_endpoint, settings.oidc_client_id, "code",
                               redirect_uri=redirect_uri(settings), scope=settings.oidc_scopes, state=state,
                               nonce=nonce, code_challenge=create_s256_code_challenge(verifier),
                               code_challenge_method="S256", ui_locales=language(request))
    response = RedirectResponse(target, status_code=303)
    pending = {"state": state, "nonce": nonce, "verifier": verifier, "next": local_path(next)}
    response.set_cookie(LOGIN_COOKIE, _signer(request).dumps(pending), max_age=LOGIN_MAX_AGE_S, path=LOGIN_PATH,
                        httponly=True, samesite="lax", secure=secure_cookies(request))
    return response


@router.get("/oidc/callback", response_class=HTMLResponse)
def callback(request: Request) -> Response:
    try:
        response: Response = _complete(request)
    except SignInFailed as failure:
        response = _failed(request, failure)
    response.delete_cookie(LOGIN_COOKIE, path=LOGIN_PATH, httponly=True, samesite="lax",
                           secure=secure_cookies(request))
    return response


def _complete(request: Request) -> Response:
    settings = services(request).settings
    if not configured(settings):
        raise SignInFailed("signin.oidc_off", 404)
    pending = _pending(request)
    params = request.query_params
    if not hmac.compare_digest(params.get("state", ""), pending["state"]):
        raise SignInFailed("signin.oidc_state")
    if "error" in params:  # the person cancelled, or the provider refused
        error = params["error"]
        raise SignInFailed("signin.oidc_refused", error=error if ERROR_WORD.fullmatch(error) else "error")
    if not params.get("code"):
        raise SignInFailed("signin.oidc_state")
    found = provider(settings)
    id_token = _exchange(settings, found, params["code"], pending["verifier"])
    caller = caller_of(settings, _verified(settings, found, id_token, pending["nonce"]))
    with services(request).db.read() as session:
        name = name_of(session, caller.niss or "")
    response = see_other(local_path(pending.get("next")))
    open_session(request, response, caller, name)
    return response


def _pending(request: Request) -> dict[str, Any]:
    """What the login put in its cookie; none (expired, another browser, already used): start again."""
    raw = request.cookies.get(LOGIN_COOKIE)
    try:
        pending = _signer(request).loads(raw or "", max_age=LOGIN_MAX_AGE_S)
    except BadSignature as exc:
        raise SignInFailed("signin.oidc_expired") from exc
    if not isinstance(pending, dict) or not all(isinstance(pending.get(k), str) for k in ("state", "nonce",
                                                                                           "verifier")):
        raise SignInFailed("signin.oidc_expired")
    return pending


def _exchange(settings: Settings, found: Provider, code: str, verifier: str) -> str:
    """The ID token for ``code``, proving with the PKCE verifier that this browser asked for it."""
    body = prepare_token_request("authorization_code", code=code, redirect_uri=redirect_uri(settings),
                                 code_verifier=verifier)
    secret_ = settings.oidc_client_secret
    client = ClientAuth(settings.oidc_client_id, secret_, "client_secret_basic" if secret_ else "none")
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    url, headers, body = client.prepare("POST", found.token_endpoint, headers, body)
    try:
        answer = httpx.post(url, content=body, headers=headers, timeout=HTTP_TIMEOUT_S)
    except httpx.HTTPError as exc:
        log.warning("OpenID Connect token endpoint unreachable: %s", exc)
        raise SignInFailed("signin.oidc_unreachable", 502) from exc
    try:
        tokens = answer.json()
    except ValueError:
        tokens = {}
    if answer.status_code != 200 or not isinstance(tokens, dict) or not tokens.get("id_token"):
        log.warning("OpenID Connect token endpoint refused the code: %s %s", answer.status_code,
                    tokens.get("error") if isinstance(tokens, dict) else "")
        raise SignInFailed("signin.oidc_token")
    return str(tokens["id_token"])


def _verified(settings: Settings, found: Provider, id_token: str, nonce: str) -> dict[str, Any]:
    """The ID token's claims once signed by the issuer, for this client, unexpired, and for this sign-in."""
    try:
        key = found.keys.get_signing_key_from_jwt(id_token).key
        claims = jwt.decode(id_token, key, algorithms=list(found.algorithms), audience=settings.oidc_client_id,
                            issuer=found.issuer, leeway=LEEWAY_S, options={"require": ["iss", "aud", "exp", "iat",
                                                                                       "sub"]})
    except (jwt.PyJWTError, ValueError) as exc:
        log.warning("OpenID Connect ID token refused: %s", exc)
        raise SignInFailed("signin.oidc_token") from exc
    if not hmac.compare_digest(str(claims.get("nonce", "")), nonce):  # a token replayed from another sign-in
        log.warning("OpenID Connect ID token refused: nonce mismatch")
        raise SignInFailed("signin.oidc_token")
    audience = claims["aud"]
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != settings.oidc_client_id:
        log.warning("OpenID Connect ID token refused: several audiences, azp is not this client")
        raise SignInFailed("signin.oidc_token")
    return claims


def caller_of(settings: Settings, claims: dict[str, Any]) -> Caller:
    """The caller the API would see: the configured claims read as ``sub`` (NISS), ``acr`` (eid|low), ``roles``."""
    try:
        niss = identifiers.niss(str(claims.get(settings.oidc_niss_claim) or ""))
    except GGAError as exc:
        raise SignInFailed("signin.oidc_niss") from exc
    eid = {value.strip() for value in settings.oidc_eid_acr.split(",") if value.strip()}
    loa = "eid" if str(claims.get(settings.oidc_loa_claim) or "") in eid else "low"
    roles = claims.get(settings.oidc_roles_claim) or []
    return caller_from_claims({"sub": niss, "acr": loa, "roles": roles if isinstance(roles, str | list) else []})
