"""Console screens of guide III (the GAP's home: co-GAPs, the domains) and IV (a domain's GL and co-GLs).

Each route reads the form, calls the same service function as /api/v1 (``admin_api.enterprise.service``,
``admin_api.user.service``) and renders or redirects; which forms a page offers is read from the policy's table,
the service still decides each action.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api.console.forms import FORM, build, fields, refused
from admin_api.console.labels import DOMAIN_KINDS, domain_kind, label
from admin_api.console.web import PREFIX, Signed, done, language, render, services, signed_in
from admin_api.enterprise import service as enterprises
from admin_api.enterprise.schemas import CoMainManagerIn, DomainIn
from admin_api.http import RowId, worded
from admin_api.policy import RULES, Action, authorize, roles_in
from admin_api.user import service as users
from admin_api.user.schemas import ManagerIn
from kernel import catalogue, identifiers
from kernel.errors import ErrorCode, GGAError
from store.models import Enterprise, User

router = APIRouter()
MANAGER_FIELDS = ("niss", "username", "last_name", "first_name", "title", "language", "email", "local_email")
# a refusal that names no field goes next to the field it is about
NEAR = {ErrorCode.CO_MAIN_MANAGER_EXISTS: "niss", ErrorCode.DOMAIN_EXISTS: "identifier",
        ErrorCode.USER_EXISTS: "niss", ErrorCode.USERNAME_TAKEN: "username",
        ErrorCode.APPLICATION_NOT_IN_DOMAIN: "applications", ErrorCode.APPLICATION_UNKNOWN: "applications"}


def _errors(err: GGAError, lang: str) -> dict[str, str]:
    errors = refused(err, lang)
    missing = err.details.get("missing")
    if isinstance(missing, list):  # a new person without identification data: each missing field says so
        return {str(name): label("domain.required_new", lang) for name in missing}
    if FORM in errors and err.code in NEAR:
        errors[NEAR[err.code]] = errors.pop(FORM)
    return errors


def _may(roles: set, *actions: Action) -> dict[str, bool]:
    return {str(a): bool(roles & RULES[a]) for a in actions}


# ---- guide III: the enterprise ---------------------------------------------------------------------------------

def _enterprise_context(session: Session, who: Signed, number: str) -> dict[str, Any]:
    view = enterprises.read(session, who.caller, number)
    roles = roles_in(session, who.caller, view["enterprise_number"])
    listed = (enterprises.list_domains(session, who.caller, number) if roles & RULES[Action.LIST_DOMAINS]
              else view["domains"])
    managers = {u.domain_id: u for u in session.scalars(select(User).where(
        User.domain_id.in_([d["id"] for d in listed]), User.type == "GL"))}
    # the domains' access managers by name only for those the API shows them to (LIST_DOMAINS)
    gls = {d: f"{u.first_name} {u.last_name}" for d, u in managers.items()} if roles & RULES[Action.LIST_DOMAINS] \
        else {}
    return {"enterprise": view, "domains": listed, "gls": gls, "kinds": list(DOMAIN_KINDS),
            "may": _may(roles, Action.MANAGE_CO_MAIN_MANAGERS, Action.CREATE_DOMAIN, Action.CHANGE_MAIN_MANAGER)}


def _enterprise_page(request: Request, who: Signed, number: str, status: int = 200, **forms: Any) -> Response:
    with services(request).db.read() as session:
        context = _enterprise_context(session, who, number)
    return render(request, "enterprise/enterprise.html", status,
                  co_form=forms.get("co_form", {}), co_errors=forms.get("co_errors", {}),
                  domain_form=forms.get("domain_form", {}), domain_errors=forms.get("domain_errors", {}), **context)


@router.get("/enterprises/{number}", response_class=HTMLResponse)
def enterprise_page(number: str, request: Request, who: Signed = Depends(signed_in)) -> Response:
    return _enterprise_page(request, who, number)


@router.post("/enterprises/{number}/co-main-managers", response_class=HTMLResponse)
async def add_co_main_manager(number: str, request: Request, who: Signed = Depends(signed_in)) -> Response:
    lang, form = language(request), fields(await request.form())
    contact = {"email": form.get("contact.email", ""), "phone": form.get("contact.phone", "")}
    data = {"niss": form.get("niss", ""), "contact": contact if any(v.strip() for v in contact.values()) else None}
    body, errors = build(CoMainManagerIn, data, lang)
    if body is not None:
        try:
            with services(request).db.session() as session:
                enterprises.add_co_main_manager(session, who.caller, number, body.niss, body.contact)
        except GGAError as err:
            errors = _errors(err, lang)
    if errors:
        return _enterprise_page(request, who, number, 422, co_form=form, co_errors=errors)
    return done(request, f"{PREFIX}/enterprises/{number}", label("enterprise.co_gap_added", lang))


@router.get("/enterprises/{number}/co-main-managers/{niss}/remove", response_class=HTMLResponse)
def confirm_remove_co_main_manager(number: str, niss: str, request: Request,
                                   who: Signed = Depends(signed_in)) -> Response:
    with services(request).db.read() as session:
        enterprise = enterprises.get_enterprise(session, number)
        authorize(session, who.caller, Action.MANAGE_CO_MAIN_MANAGERS, enterprise.number)
        co = next((c for c in enterprise.co_main_managers if c.niss == niss), None)
        if co is None:
            raise GGAError(ErrorCode.NOT_FOUND, details={"niss": niss}, key="not_found.co_main_manager")
        person = enterprises.co_view(session, co)
        name, number = enterprise.name, enterprise.number
    return render(request, "enterprise/remove_co_gap.html", person=person, enterprise_name=name, number=number)


@router.post("/enterprises/{number}/co-main-managers/{niss}/remove")
def remove_co_main_manager(number: str, niss: str, request: Request, who: Signed = Depends(signed_in)) -> Response:
    with services(request).db.session() as session:
        enterprises.remove_co_main_manager(session, who.caller, number, niss)
    return done(request, f"{PREFIX}/enterprises/{number}", label("enterprise.co_gap_removed", language(request)))


@router.post("/enterprises/{number}/domains", response_class=HTMLResponse)
async def create_domain(number: str, request: Request, who: Signed = Depends(signed_in)) -> Response:
    lang, form = language(request), fields(await request.form())
    body, errors = build(DomainIn, {"name": form.get("name", ""), "identifier": form.get("identifier", "")}, lang)
    if body is not None:
        try:
            with services(request).db.session() as session:
                created = enterprises.create_domain(session, who.caller, number, body.name, body.identifier,
                                                    body.applications)
        except GGAError as err:
            errors = _errors(err, lang)
    if errors:
        return _enterprise_page(request, who, number, 422, domain_form=form, domain_errors=errors)
    return done(request, f"{PREFIX}/enterprises/{number}", label(
        "domain.created", lang, name=domain_kind(created["name"], lang), identifier=created["identifier"]))


# ---- guide IV: a domain's access manager (GL) and co-managers (Co-GL) ------------------------------------------

def _domain_context(session: Session, who: Signed, domain_id: int) -> dict[str, Any]:
    domain, roles = users.authorize_domain(session, who.caller, Action.MANAGE_USERS, domain_id)
    enterprise = session.get(Enterprise, domain.enterprise_number)
    managers = list(session.scalars(select(User).where(User.domain_id == domain.id, User.type.in_(("GL", "Co-GL")))
                                    .order_by(User.last_name, User.first_name)))
    return {"domain": enterprises.domain_view(domain), "enterprise_name": enterprise.name if enterprise else "",
            "gl": next((users.user_view(u) for u in managers if u.type == "GL"), None),
            "co_gls": [users.user_view(u) for u in managers if u.type == "Co-GL"],
            "may": _may(roles, Action.SET_LOCAL_MANAGER, Action.MANAGE_CO_LOCAL_MANAGERS),
            "application_names": {c: catalogue.APPLICATIONS[c] for c in catalogue.APPLICATIONS}}


def _domain_render(request: Request, who: Signed, domain_id: int, template: str, status: int = 200,
                   **extra: Any) -> Response:
    with services(request).db.read() as session:
        context = _domain_context(session, who, domain_id)
    return render(request, template, status, **context, **extra)


@router.get("/domains/{domain_id}", response_class=HTMLResponse)
def domain_page(domain_id: RowId, request: Request, who: Signed = Depends(signed_in)) -> Response:
    return _domain_render(request, who, domain_id, "enterprise/domain.html")


# the two designations share one form: the GL (PUT local-manager) and a co-GL (POST co-local-managers)
DESIGNATIONS = {"local-manager": (Action.SET_LOCAL_MANAGER, users.set_local_manager),
                "co-local-managers": (Action.MANAGE_CO_LOCAL_MANAGERS, users.add_co_local_manager)}


def _designation_form(request: Request, who: Signed, domain_id: int, kind: str, status: int = 200,
                      form: dict | None = None, errors: dict | None = None) -> Response:
    with services(request).db.read() as session:
        domain, _ = users.authorize_domain(session, who.caller, DESIGNATIONS[kind][0], domain_id)
    return _domain_render(request, who, domain.id, "enterprise/designate.html", status, designation=kind,
                          form=form or {"language": language(request)}, errors=errors or {})


@router.get("/domains/{domain_id}/local-manager/new", response_class=HTMLResponse)
def local_manager_page(domain_id: RowId, request: Request, who: Signed = Depends(signed_in)) -> Response:
    return _designation_form(request, who, domain_id, "local-manager")


@router.get("/domains/{domain_id}/co-local-managers/new", response_class=HTMLResponse)
def co_local_manager_page(domain_id: RowId, request: Request, who: Signed = Depends(signed_in)) -> Response:
    return _designation_form(request, who, domain_id, "co-local-managers")


@router.post("/domains/{domain_id}/local-manager/new", response_class=HTMLResponse)
async def set_local_manager(domain_id: RowId, request: Request, who: Signed = Depends(signed_in)) -> Response:
    return await _designate(request, who, domain_id, "local-manager")


@router.post("/domains/{domain_id}/co-local-managers/new", response_class=HTMLResponse)
async def add_co_local_manager(domain_id: RowId, request: Request, who: Signed = Depends(signed_in)) -> Response:
    return await _designate(request, who, domain_id, "co-local-managers")


class _Preview(Exception):
    """Ends the guide's "Enregistrer" step: the service ran (every rule checked) and its unit of work is undone."""

    def __init__(self, view: dict):
        self.view = view


async def _designate(request: Request, who: Signed, domain_id: int, kind: str) -> Response:
    """The guide's two steps: "Enregistrer" shows what the designation will record, "Confirmer" records it.
    Both run the service; the first one's unit of work is rolled back."""
    lang, form = language(request), fields(await request.form(), "applications")
    body, errors = build(ManagerIn, {k: form.get(k, "") for k in MANAGER_FIELDS} | {
        "applications": form["applications"]}, lang)
    if body is not None and "back" not in form:
        try:
            with services(request).db.session() as session:
                view = DESIGNATIONS[kind][1](session, who.caller, domain_id, body)
                if form.get("confirmed") != "1":
                    raise _Preview(view)
        except _Preview as preview:
            return _domain_render(request, who, domain_id, "enterprise/confirm_designation.html",
                                  designation=kind, form=form, person=preview.view)
        except GGAError as err:
            errors = _errors(err, lang)
    if errors or "back" in form:
        return _designation_form(request, who, domain_id, kind, 422 if errors else 200, form, errors)
    return done(request, f"{PREFIX}/domains/{domain_id}", worded(view, lang)["message"])


@router.get("/domains/{domain_id}/co-local-managers/{niss}/remove", response_class=HTMLResponse)
def confirm_remove_co_local_manager(domain_id: RowId, niss: str, request: Request,
                                    who: Signed = Depends(signed_in)) -> Response:
    with services(request).db.read() as session:
        domain, _ = users.authorize_domain(session, who.caller, Action.MANAGE_CO_LOCAL_MANAGERS, domain_id)
        co = session.scalar(select(User).where(User.domain_id == domain.id, User.niss == identifiers.niss(niss),
                                               User.type == "Co-GL"))
        if co is None:
            raise GGAError(ErrorCode.NOT_FOUND, details={"niss": niss}, key="not_found.co_local_manager")
        person = users.user_view(co)
    return _domain_render(request, who, domain_id, "enterprise/remove_co_gl.html", person=person)


@router.post("/domains/{domain_id}/co-local-managers/{niss}/remove")
def remove_co_local_manager(domain_id: RowId, niss: str, request: Request,
                            who: Signed = Depends(signed_in)) -> Response:
    with services(request).db.session() as session:
        users.remove_co_local_manager(session, who.caller, domain_id, niss)
    return done(request, f"{PREFIX}/domains/{domain_id}", label("domain.co_gl_removed", language(request)))

