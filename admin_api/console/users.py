"""Console screens of guide V: a domain's users (search, pages, CSV export, creation, editing, bulk actions).

Every action calls the same service as ``/api/v1/domains/{id}/users…`` (admin_api/domain/endpoints.py); the routes
only read the form, call it, and render or redirect with the guide's confirmation."""

from __future__ import annotations

from typing import Any, get_args
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api.console.forms import FORM, build, fields
from admin_api.console.labels import label
from admin_api.console.web import PREFIX, Signed, done, language, render, services, signed_in
from admin_api.http import RowId, worded
from admin_api.paging import PageRequest
from admin_api.policy import Action
from admin_api.user import queries, service
from admin_api.user.schemas import BulkAction, BulkIn, UserFilters, UserIn, UserPatch
from kernel.catalogue import APPLICATIONS
from kernel.errors import ErrorCode, GGAError, spec
from kernel.i18n import translate
from store.models import Domain, User

router = APIRouter()
PAGE_SIZE = 20
FILTERS = ("last_name", "first_name", "username", "type", "niss", "status", "application")
ACTIONS: tuple[str, ...] = get_args(BulkAction)
# the field a service's refusal is about, when its details do not name it
FIELD_OF = {ErrorCode.USERNAME_TAKEN: "username", ErrorCode.USER_EXISTS: "niss",
            ErrorCode.APPLICATION_NOT_IN_DOMAIN: "applications", ErrorCode.APPLICATION_UNKNOWN: "applications",
            ErrorCode.PASSWORD_TOO_WEAK: "password"}


def _users_path(domain_id: int, query: str = "") -> str:
    return f"{PREFIX}/domains/{domain_id}/users" + (f"?{query}" if query else "")


def _list_query(pairs: Any) -> str:
    """The list's filters and page only (whatever else a form or link carries is dropped)."""
    return urlencode([(k, v) for k, v in pairs if k in (*FILTERS, "page") and v])


def _page(request: Request) -> int:
    """The list's page as a form's URL carries it (1 when absent or odd)."""
    given = request.query_params.get("page", "")
    return max(1, int(given)) if given.isdecimal() and len(given) <= 6 else 1


def _filters(request: Request) -> tuple[dict[str, str], UserFilters | None, dict[str, str]]:
    raw = {k: request.query_params.get(k, "").strip() for k in FILTERS}
    filters, errors = build(UserFilters, {k: v for k, v in raw.items() if v}, language(request))
    return raw, filters, errors


def _refused(err: GGAError, lang: str) -> dict[str, str]:
    field = err.details.get("field")
    return {field if isinstance(field, str) else FIELD_OF.get(err.code, FORM): err.localized(lang)}


def _applications(domain: Domain, lang: str) -> list[tuple[str, str]]:
    def name(code: str) -> str:
        app = APPLICATIONS.get(code)
        return f"{code} – {app.name_in(lang)}" if app else code
    return [(a.code, name(a.code)) for a in domain.applications]


def _domain(session: Session, who: Signed, domain_id: int) -> Domain:
    domain, _ = service.authorize_domain(session, who.caller, Action.MANAGE_USERS, domain_id)
    return domain


@router.get("/domains/{domain_id}/users", response_class=HTMLResponse)
def users_page(request: Request, domain_id: RowId, page: int = Query(1, ge=1, le=1_000_000),
               who: Signed = Depends(signed_in)) -> Response:
    return _list(request, who, domain_id, page)


def _list(request: Request, who: Signed, domain_id: int, page: int = 1, errors: dict[str, str] | None = None,
          status_code: int = 200) -> Response:
    lang = language(request)
    raw, filters, problems = _filters(request)
    paging = PageRequest(page=page, page_size=PAGE_SIZE)
    with services(request).db.read() as session:
        domain = _domain(session, who, domain_id)
        users: list[dict] = []
        total = 0
        if filters is not None:
            try:
                found, total = queries.page(session, queries.filtered(session, domain.id, filters), paging)
                users = [service.user_view(u) for u in found]
            except GGAError as err:  # a NISS filter that is no NISS
                problems = _refused(err, lang)
        query = _list_query(raw.items())
        return render(request, "users/list.html", status_code if not problems else 422, domain=domain,
                      enterprise=domain.enterprise, users=users, total=total, page=page, page_size=PAGE_SIZE,
                      filters=raw, query=query, page_base=_users_path(domain.id, query) + ("&" if query else "?"),
                      applications=_applications(domain, lang), errors=problems | (errors or {}),
                      back=_list_query(request.query_params.multi_items()))


@router.get("/domains/{domain_id}/users.csv", response_class=StreamingResponse)
def users_csv(request: Request, domain_id: RowId, who: Signed = Depends(signed_in)) -> Response:
    """The filtered users as the API's export streams them (``GET /api/v1/domains/{id}/users.csv``)."""
    _, filters, problems = _filters(request)
    if filters is None:
        raise GGAError(ErrorCode.VALIDATION_ERROR, details={"errors": problems})
    db = services(request).db
    with db.read() as session:
        domain = _domain(session, who, domain_id)
        queries.filtered(session, domain.id, filters)  # refuse bad filters before the 200 goes out
    return queries.csv_download(db, domain.id, filters)


@router.get("/domains/{domain_id}/users/new", response_class=HTMLResponse)
def new_user_page(request: Request, domain_id: RowId, new_niss: str = Query("", max_length=20),
                  who: Signed = Depends(signed_in)) -> Response:
    """The guide's "Ajouter un utilisateur NISS: … Suivant": the creation form with that NISS."""
    return _new_form(request, who, domain_id, {"niss": new_niss.strip(), "language": language(request)}, {})


def _new_form(request: Request, who: Signed, domain_id: int, values: dict[str, Any], errors: dict[str, str],
              status_code: int = 200) -> Response:
    with services(request).db.read() as session:
        domain = _domain(session, who, domain_id)
        return render(request, "users/new.html", status_code, domain=domain, enterprise=domain.enterprise,
                      values=values, errors=errors, applications=_applications(domain, language(request)))


@router.post("/domains/{domain_id}/users/new", response_class=HTMLResponse)
async def create_user(request: Request, domain_id: RowId, who: Signed = Depends(signed_in)) -> Response:
    """Création d'un utilisateur: ``service.create_user``, as ``POST /api/v1/domains/{id}/users``."""
    lang = language(request)
    data = fields(await request.form(), "applications")
    errors = _confirmations(data, lang)
    body, problems = build(UserIn, {k: v for k, v in data.items() if not k.endswith("_confirm")}, lang)
    errors = problems | errors
    if body is None or errors:
        return _new_form(request, who, domain_id, _kept(data), errors, 422)
    try:
        with services(request).db.session() as session:
            created = service.create_user(session, who.caller, domain_id, body, services(request).passwords)
    except GGAError as err:
        if err.code == ErrorCode.FORBIDDEN or err.code == ErrorCode.NOT_FOUND:
            raise
        return _new_form(request, who, domain_id, _kept(data), _refused(err, lang), err.status)
    return done(request, _users_path(domain_id, urlencode({"username": created["username"]})),
                translate("user.saved", lang))


def _confirmations(data: dict[str, Any], lang: str) -> dict[str, str]:
    """The guide asks for the username and the password twice: both typings must agree."""
    return {name: label(f"users.mismatch.{name}", lang) for name in ("username", "password")
            if data.get(name) and data.get(name) != data.get(f"{name}_confirm")}


def _kept(data: dict[str, Any]) -> dict[str, Any]:
    """The form's values to show again: never a password."""
    return {k: v for k, v in data.items() if not k.startswith("password")}


EDITED = tuple(UserPatch.model_fields)  # the form's fields: those the service lets one change


@router.get("/domains/{domain_id}/users/{username}/edit", response_class=HTMLResponse)
def edit_user_page(request: Request, domain_id: RowId, username: str, who: Signed = Depends(signed_in)) -> Response:
    """Modifier les données d'un utilisateur, prefilled: ``service.read_user``, as ``GET …/users/{username}``."""
    return _edit_form(request, who, domain_id, username, None, {})


def _edit_form(request: Request, who: Signed, domain_id: int, username: str, values: dict[str, Any] | None,
               errors: dict[str, str], status_code: int = 200) -> Response:
    with services(request).db.read() as session:
        user = service.read_user(session, who.caller, domain_id, username)  # 403 / 404 pages before the form
        domain = _domain(session, who, domain_id)
        return render(request, "users/edit.html", status_code, domain=domain, enterprise=domain.enterprise,
                      user=user, values=values if values is not None else {k: user[k] for k in EDITED},
                      errors=errors, back=_list_query(request.query_params.multi_items()))


@router.post("/domains/{domain_id}/users/{username}/edit", response_class=HTMLResponse)
async def edit_user(request: Request, domain_id: RowId, username: str, who: Signed = Depends(signed_in)) -> Response:
    """Enregistrer: ``service.update_user``, as ``PATCH /api/v1/domains/{id}/users/{username}``, then the guide's
    confirmation on the list (its filters and page kept)."""
    lang = language(request)
    data = {k: v for k, v in fields(await request.form()).items() if k in EDITED}
    body, errors = build(UserPatch, data, lang)
    if body is None:
        return _edit_form(request, who, domain_id, username, data, errors, 422)
    try:
        with services(request).db.session() as session:
            service.update_user(session, who.caller, domain_id, username, body)
    except GGAError as err:
        if err.code == ErrorCode.FORBIDDEN or err.code == ErrorCode.NOT_FOUND:
            raise
        return _edit_form(request, who, domain_id, username, data, _refused(err, lang), err.status)
    return done(request, _users_path(domain_id, _list_query(request.query_params.multi_items())),
                translate("user.saved", lang))


@router.post("/domains/{domain_id}/users/bulk", response_class=HTMLResponse)
async def bulk_ask(request: Request, domain_id: RowId, who: Signed = Depends(signed_in)) -> Response:
    """The checked users and the chosen action: the guide's confirmation page (nothing changes yet)."""
    lang = language(request)
    data = fields(await request.form(), "users")
    page = _page(request)
    if not data["users"]:
        return _list(request, who, domain_id, page, {"users": label("users.none_checked", lang)}, 422)
    if data.get("action") not in ACTIONS:
        return _list(request, who, domain_id, page, {"action": label("users.no_action", lang)}, 422)
    return _confirm(request, who, domain_id, data["action"], data["users"], [], {})


def _confirm(request: Request, who: Signed, domain_id: int, action: str, usernames: list[str],
             applications: list[str], errors: dict[str, str], status_code: int = 200) -> Response:
    with services(request).db.read() as session:
        domain = _domain(session, who, domain_id)
        chosen = session.scalars(select(User).where(User.domain_id == domain.id, User.username.in_(usernames))
                                 .order_by(User.last_name_key, User.first_name_key, User.id)).all()
        return render(request, "users/confirm.html", status_code, domain=domain, enterprise=domain.enterprise,
                      action=action, users=[service.user_view(u) for u in chosen], usernames=usernames,
                      applications=_applications(domain, language(request)), checked=applications, errors=errors,
                      back=_list_query(request.query_params.multi_items()))


@router.post("/domains/{domain_id}/users/bulk/confirm", response_class=HTMLResponse)
async def bulk_confirm(request: Request, domain_id: RowId, who: Signed = Depends(signed_in)) -> Response:
    """Confirmer: ``service.bulk``, as ``POST /api/v1/domains/{id}/users/bulk``, then the guide's message."""
    lang = language(request)
    data = fields(await request.form(), "users", "applications")
    body, errors = build(BulkIn, {k: data.get(k) for k in ("action", "users", "applications")}, lang)
    if body is None:
        return _confirm(request, who, domain_id, str(data.get("action")), data["users"], data["applications"],
                        errors, 422)
    try:
        with services(request).db.session() as session:
            result = worded(service.bulk(session, who.caller, domain_id, body.action, body.users,
                                         body.applications), lang)
    except GGAError as err:
        if err.code == ErrorCode.FORBIDDEN or err.code == ErrorCode.NOT_FOUND:
            raise
        return _confirm(request, who, domain_id, body.action, body.users, body.applications,
                        _refused(err, lang), err.status)
    back = _list_query(request.query_params.multi_items())  # the list's filters and page ride on the form's URL
    return done(request, _users_path(domain_id, back), _outcome(result, lang))


def _outcome(result: dict, lang: str) -> str:
    """The guide's confirmation, then the users left as they were and why."""
    said = [result["message"] or label("users.bulk.nothing", lang)]
    for row in result["results"]:
        if row["result"] in ("refused", "not_found"):
            said.append(label("users.bulk.left", lang, username=row["username"],
                              reason=spec(ErrorCode(row["code"])).describe(lang)))
    return " ".join(said)
