"""What every console route shares: the signed-in person (a signed cookie), the language, CSRF, rendering.

The session cookie holds who signed in (NISS, level of assurance, platform roles), signed with the console secret
and limited in age; it is ``HttpOnly``, ``SameSite=Lax``, and ``Secure`` when the public URL is https. CSRF is a
double-submit token: a random ``gga_csrf`` cookie that every form repeats in a hidden ``csrf`` field; the console's
router refuses any POST whose field is missing or different (a page of another site can post a form but can neither
read nor set our cookie).
"""

from __future__ import annotations

import functools
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeTimedSerializer

from admin_api.console import formats
from admin_api.console.labels import domain_kind, label
from admin_api.http import services
from admin_api.identity import Caller
from kernel.i18n import LANGUAGES, negotiate
from kernel.settings import Settings
from keys.files import key_lock, write_private

SESSION_COOKIE, CSRF_COOKIE, LANGUAGE_COOKIE, FLASH_COOKIE = "gga_session", "gga_csrf", "gga_lang", "gga_flash"
SESSION_MAX_AGE_S = 8 * 3600  # a working day; then sign in again
PREFIX = "/console"
HERE = Path(__file__).parent

TEMPLATES = Jinja2Templates(directory=HERE / "templates")
TEMPLATES.env.globals.update(enterprise_number=formats.enterprise_number, niss=formats.niss, when=formats.when,
                             number=formats.number, LANGUAGES=LANGUAGES, PREFIX=PREFIX)


class SignInRequired(Exception):
    """A page that needs a person was asked for without a session: the console answers with the sign-in page."""


class CsrfRefused(Exception):
    """A form came without the token of this browser's pages."""


@dataclass(frozen=True)
class Signed:
    """The person using the console, as the services know callers."""

    caller: Caller
    name: str

    @property
    def niss(self) -> str:
        return self.caller.niss or ""


def secret(settings: Settings) -> str:
    """``GGA_CONSOLE_SECRET``, else one made once in the data folder (shared by the workers of an instance; several
    instances behind one address must be given the same secret); read once per process, not per request."""
    return settings.console_secret or _stored_secret(settings.resolved_data_dir / "keys")


@functools.cache
def _stored_secret(folder: Path) -> str:
    path = folder / "console-secret"
    with key_lock(folder):  # workers starting together keep one secret
        if not path.exists():
            write_private(path, secrets.token_urlsafe(32).encode())
    return path.read_text().strip()


def _signer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret(services(request).settings), salt="gga-console-session")


def secure_cookies(request: Request) -> bool:
    return services(request).settings.resolved_public_url.startswith("https://")


_UNREAD = object()


def current(request: Request) -> Signed | None:
    """The person of the request's session cookie (its signature checked once per request: the route's
    dependency and the page's rendering both ask)."""
    who = getattr(request.state, "who", _UNREAD)
    if who is _UNREAD:
        who = request.state.who = _from_cookie(request)
    return who


def _from_cookie(request: Request) -> Signed | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        data = _signer(request).loads(raw, max_age=SESSION_MAX_AGE_S)
    except BadSignature:
        return None
    caller = Caller(niss=data.get("niss"), loa=data.get("loa", "low"), platform_roles=frozenset(data.get("roles", [])))
    return Signed(caller, data.get("name") or formats.niss(caller.niss))


def signed_in(request: Request) -> Signed:
    """The route's person, or the sign-in page (``SignInRequired``)."""
    who = current(request)
    if who is None:
        raise SignInRequired
    return who


def open_session(request: Request, response: Response, caller: Caller, name: str) -> None:
    """Sign ``caller`` in on ``response`` (a fresh CSRF token too: a token seen before signing in is not reused)."""
    token = _signer(request).dumps({"niss": caller.niss, "loa": caller.loa, "roles": sorted(caller.platform_roles),
                                    "name": name})
    response.set_cookie(SESSION_COOKIE, token, max_age=SESSION_MAX_AGE_S, path=PREFIX, httponly=True,
                        samesite="lax", secure=secure_cookies(request))
    _set_csrf(request, response, secrets.token_urlsafe(24))


def close_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    response.delete_cookie(CSRF_COOKIE, path=PREFIX)


def language(request: Request) -> str:
    """The switch's choice (cookie), else the browser's ``Accept-Language``; French by default."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    return chosen if chosen in LANGUAGES else negotiate(request.headers.get("accept-language"))


def csrf_token(request: Request) -> str:
    """This browser's token (made on its first page: ``render`` sets the cookie)."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token:
        token = request.state.new_csrf = secrets.token_urlsafe(24)
    return token


def _set_csrf(request: Request, response: Response, token: str) -> None:
    response.set_cookie(CSRF_COOKIE, token, path=PREFIX, httponly=True, samesite="lax",
                        secure=secure_cookies(request))


async def check_csrf(request: Request) -> None:
    """Every console route depends on this: a POST must repeat the ``gga_csrf`` cookie in its ``csrf`` field."""
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    sent = (await request.form()).get("csrf")
    expected = request.cookies.get(CSRF_COOKIE)
    if not (isinstance(sent, str) and expected and hmac.compare_digest(sent, expected)):
        raise CsrfRefused


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page in the person's language, with what every page needs (person, CSRF token, word lookup, the
    confirmation of the action that led here)."""
    lang = language(request)
    context.setdefault("who", current(request))
    token = csrf_token(request)
    notice = _flashed(request)
    response = TEMPLATES.TemplateResponse(request, template, status_code=status_code, context={
        "lang": lang, "t": lambda key, **params: label(key, lang, **params), "csrf": token,
        "kind": lambda name: domain_kind(name, lang),
        "here": here(request), "notice": notice, **context})
    if request.cookies.get(CSRF_COOKIE) != token:
        _set_csrf(request, response, token)
    if notice is not None:
        response.delete_cookie(FLASH_COOKIE, path=PREFIX)
    return response


def done(request: Request, path: str, message: str) -> RedirectResponse:
    """Redirect after a change, the guide's confirmation ``message`` (already in the person's language) shown once
    on the next page."""
    response = see_other(path)
    signer = URLSafeTimedSerializer(secret(services(request).settings), salt="gga-console-flash")
    response.set_cookie(FLASH_COOKIE, signer.dumps(message), max_age=300, path=PREFIX, httponly=True,
                        samesite="lax", secure=secure_cookies(request))
    return response


def _flashed(request: Request) -> str | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        return URLSafeTimedSerializer(secret(services(request).settings), salt="gga-console-flash").loads(
            raw, max_age=300)
    except BadSignature:
        return None


def here(request: Request) -> str:
    """This page's path and query, for the language switch to come back to; after a POST (a confirmation step)
    the page the form was on, since the switch comes back with a GET."""
    if request.method != "GET":
        referer = urlsplit(request.headers.get("referer", ""))
        target = local_path(referer.path + (f"?{referer.query}" if referer.query else ""))
        return quote(target, safe="/")
    query = f"?{request.url.query}" if request.url.query else ""
    return quote(f"{request.url.path}{query}", safe="/")  # one query value: its own ? and & encoded


def see_other(path: str) -> RedirectResponse:
    """After a POST that changed something: the browser loads the page (a reload does not post again)."""
    return RedirectResponse(path, status_code=303)


def local_path(target: str | None, default: str = PREFIX + "/") -> str:
    """Only a path of this console (no scheme, no host, no ``//``): no open redirect through ``next=``."""
    if target and target.startswith(PREFIX) and not target.startswith("//") and "\\" not in target:
        return target
    return default
