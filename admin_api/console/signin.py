"""Signing in and out, the language switch and the home page (the person's enterprises and domains)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admin_api.console import oidc
from admin_api.console.labels import label
from admin_api.console.places import known_people, name_of, places_of
from admin_api.console.web import (
    LANGUAGE_COOKIE,
    PREFIX,
    Signed,
    close_session,
    language,
    local_path,
    open_session,
    render,
    secure_cookies,
    see_other,
    services,
    signed_in,
)
from admin_api.identity import Caller
from kernel import identifiers
from kernel.errors import GGAError
from kernel.i18n import LANGUAGES

router = APIRouter()
PLATFORM_ROLES = ("operator", "ops")


@router.get("/", response_class=HTMLResponse)
def home(request: Request, who: Signed = Depends(signed_in)) -> Response:
    with services(request).db.read() as session:
        places = places_of(session, who.niss) if who.niss else []
    return render(request, "home.html", places=places)


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, next: str | None = None) -> Response:
    settings = services(request).settings
    people: list[tuple[str, str]] = []
    if settings.dev_issuer:
        with services(request).db.read() as session:
            people = known_people(session)
    return render(request, "sign_in.html", dev=settings.dev_issuer, people=people, next=local_path(next),
                  oidc_issuer=oidc.issuer_label(settings), errors={}, roles=PLATFORM_ROLES)


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in_dev(request: Request) -> Response:
    """The development issuer's sign-in (``--demo``): any person, any level of assurance, optional platform roles."""
    settings = services(request).settings
    if not settings.dev_issuer:
        return see_other(f"{PREFIX}/sign-in")
    form = await request.form()
    chosen = str(form.get("other_niss") or "").strip() or str(form.get("niss") or "")
    try:
        niss = identifiers.niss(chosen)
    except GGAError:
        with services(request).db.read() as session:
            people = known_people(session)
        return render(request, "sign_in.html", 422, dev=True, people=people, next=local_path(str(form.get("next"))),
                      oidc_issuer=oidc.issuer_label(settings), roles=PLATFORM_ROLES,
                      errors={"other_niss": label("signin.unknown_niss", language(request))})
    roles = frozenset(r for r in form.getlist("roles") if r in PLATFORM_ROLES)
    caller = Caller(niss=niss, loa="eid" if form.get("loa") == "eid" else "low", platform_roles=roles)
    with services(request).db.read() as session:
        name = name_of(session, niss)
    response = see_other(local_path(str(form.get("next") or "")))
    open_session(request, response, caller, name)
    return response


@router.post("/sign-out")
def sign_out(request: Request) -> Response:
    response = see_other(f"{PREFIX}/sign-in")
    close_session(response)
    return response


@router.get("/language/{code}")
def switch_language(code: str, request: Request, next: str | None = None) -> RedirectResponse:
    response = RedirectResponse(local_path(next), status_code=303)
    if code in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, code, max_age=365 * 86400, path=PREFIX, samesite="lax",
                            secure=secure_cookies(request))
    return response
