"""Guide I and II on screen: register an enterprise and designate its GAP (standard procedure with eID, exceptional
procedure with a ticket and a signed PDF), follow a request by its ticket, and the contact centre's queue.

Every action is the service call of /api/v1/registrations; a route reads the form, calls it, renders or redirects.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from admin_api.console.formats import niss as niss_shown
from admin_api.console.forms import FORM, build, fields, refused
from admin_api.console.labels import label
from admin_api.console.web import PREFIX, Signed, done, language, render, see_other, services, signed_in
from admin_api.enterprise import service as enterprises
from admin_api.http import worded
from admin_api.registration import document, service
from admin_api.registration.schemas import (
    ExceptionalRegistration,
    ManagerDesignation,
    Rejection,
    StandardRegistration,
)
from kernel.errors import ErrorCode, GGAError
from store.models import Enterprise

router = APIRouter(prefix="/registrations")
HOME = f"{PREFIX}/registrations"
QUEUE_PAGE_SIZE = 20
OTHER = "other"  # the radio "Autre personne"; "self" is the schema's own value
# A service refusal without a field names the one the person should look at again.
ENTERPRISE_REFUSALS = {ErrorCode.ENTERPRISE_UNKNOWN, ErrorCode.ENTERPRISE_ALREADY_REGISTERED,
                       ErrorCode.ALREADY_MAIN_ACCESS_MANAGER, ErrorCode.NOT_LEGAL_REPRESENTATIVE}
FIELD_OF = {"legal_representative": "legal_representative.last_name"}


def _nested(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"contact.email": x}`` -> ``{"contact": {"email": x}}``: the form's names are the schema's paths, so an
    error's path is the name of the field to show it next to."""
    tree: dict[str, Any] = {}
    for name, value in flat.items():
        *parents, last = name.split(".")
        node = tree
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):  # "contact" posted beside "contact.email": not a field of ours
                child = node[part] = {}
            node = child
        if not isinstance(node.get(last), dict):  # a group keeps its fields over a stray value of its name
            node[last] = value
    return tree


def _body(form: dict[str, Any]) -> dict[str, Any]:
    data = _nested({k: v for k, v in form.items() if k != "manager"})
    data["confirm"] = form.get("confirm") == "true"
    if form.get("manager") != OTHER:
        data["main_access_manager"] = "self"
    return data


def _shown(errors: dict[str, str], form: dict[str, Any]) -> dict[str, str]:
    """The union's "self" branch refuses a person's details: with "Autre personne" only their fields speak."""
    if form.get("manager") == OTHER and any(k.startswith("main_access_manager.") for k in errors):
        errors.pop("main_access_manager", None)
    return errors


def _placed(err: GGAError, lang: str, lr_field: str = "enterprise_number",
            enterprise_field: str = "enterprise_number") -> dict[str, str]:
    """A refusal next to the field it concerns; ``enterprise_field``: where the enterprise's refusals go (above
    the form when the enterprise is not a field of it)."""
    if err.code == ErrorCode.CONFIRMATION_REQUIRED:
        return {"confirm": err.localized(lang)}
    if err.code == ErrorCode.NOT_LEGAL_REPRESENTATIVE:
        return {lr_field: err.localized(lang)}
    if err.code in ENTERPRISE_REFUSALS:
        return {enterprise_field: err.localized(lang)}
    fields_of = FIELD_OF | {"enterprise_number": enterprise_field}
    return {fields_of.get(k, k): v for k, v in refused(err, lang).items()}


async def posted(request: Request) -> dict[str, Any]:
    """The form's fields, read here so that the route itself runs in the thread pool (its database calls block)."""
    return fields(await request.form())


@router.get("/new", response_class=HTMLResponse)
def choose(request: Request) -> Response:
    return render(request, "registration/choose.html")


@router.get("/new/standard", response_class=HTMLResponse)
def standard_form(request: Request, who: Signed = Depends(signed_in)) -> Response:
    return render(request, "registration/standard.html", form={"manager": "self"}, errors={})


@router.post("/new/standard", response_class=HTMLResponse)
def standard_submit(request: Request, form: dict[str, Any] = Depends(posted),
                    who: Signed = Depends(signed_in)) -> Response:
    """Guide I: the legal representative signed in with eID registers the enterprise and designates the GAP.
    The confirmation is this POST's answer: it names the GAP and their contact, for the person who posted only."""
    lang = language(request)
    body, errors = build(StandardRegistration, _body(form), lang)
    if body is None:
        return render(request, "registration/standard.html", 422, form=form, errors=_shown(errors, form))
    try:
        with services(request).db.session() as session:
            result = worded(service.register_standard(session, who.caller, body, lang), lang)
    except GGAError as err:
        return render(request, "registration/standard.html", err.status, form=form, errors=_placed(err, lang))
    return render(request, "registration/registered.html", result=result)


@router.get("/change/{number}", response_class=HTMLResponse)
def change_form(number: str, request: Request, who: Signed = Depends(signed_in)) -> Response:
    """The legal representative designates another GAP for a registered enterprise (PUT main-access-manager)."""
    with services(request).db.read() as session:
        enterprise = enterprises.read(session, who.caller, number)  # the policy's page: FORBIDDEN for others
    return render(request, "registration/change.html", enterprise=enterprise, form={"manager": OTHER}, errors={})


@router.post("/change/{number}", response_class=HTMLResponse)
def change_submit(number: str, request: Request, form: dict[str, Any] = Depends(posted),
                  who: Signed = Depends(signed_in)) -> Response:
    lang = language(request)
    with services(request).db.read() as session:
        enterprise = enterprises.read(session, who.caller, number)
    body, errors = build(ManagerDesignation, _body(form), lang)
    if body is None:
        return render(request, "registration/change.html", 422, enterprise=enterprise, form=form,
                      errors=_shown(errors, form))
    try:
        with services(request).db.session() as session:
            manager = service.change_main_manager(session, who.caller, enterprise["enterprise_number"], body, lang)
    except GGAError as err:
        return render(request, "registration/change.html", err.status, enterprise=enterprise, form=form,
                      errors=_placed(err, lang, lr_field="main_access_manager.niss", enterprise_field=FORM))
    message = label("registration.change.done", lang, name=manager["name"] or niss_shown(manager["niss"]))
    return done(request, f"{PREFIX}/enterprises/{enterprise['enterprise_number']}", message)


@router.get("/new/exceptional", response_class=HTMLResponse)
def exceptional_form(request: Request) -> Response:
    return render(request, "registration/exceptional.html", form={"manager": "self"}, errors={})


@router.post("/new/exceptional", response_class=HTMLResponse)
def exceptional_submit(request: Request, form: dict[str, Any] = Depends(posted)) -> Response:
    """Guide II: no eID; the request gets its ticket and waits for the signed form."""
    lang = language(request)
    body, errors = build(ExceptionalRegistration, _body(form), lang)
    if body is None:
        return render(request, "registration/exceptional.html", 422, form=form, errors=_shown(errors, form))
    try:
        with services(request).db.session() as session:
            ticket = service.register_exceptional(session, body, lang).ticket
    except GGAError as err:
        return render(request, "registration/exceptional.html", err.status, form=form,
                      errors=_placed(err, lang, "legal_representative.niss"))
    return see_other(f"{HOME}/{ticket}/requested")


@router.get("/status", response_class=HTMLResponse)
def status(request: Request, ticket: str = "") -> Response:
    """Any holder of the (unguessable) ticket may read its request, as through the API."""
    view, errors = None, {}
    if ticket.strip():
        try:
            with services(request).db.read() as session:
                view = _with_names(session, service.request_view(service.get_request(session, ticket.strip())))
        except GGAError as err:
            if err.code != ErrorCode.NOT_FOUND:
                raise
            errors = {"ticket": err.localized(language(request))}
    return render(request, "registration/status.html", 404 if errors else 200, ticket=ticket, view=view,
                  errors=errors)


def _with_names(session: Session, view: dict[str, Any]) -> dict[str, Any]:
    enterprise = session.get(Enterprise, view["enterprise_number"])
    return view | {"enterprise_name": enterprise.name if enterprise else ""}


@router.get("/queue", response_class=HTMLResponse)
def queue(request: Request, page: int = Query(1, ge=1, le=1_000_000), who: Signed = Depends(signed_in)) -> Response:
    return _queue_page(request, who, max(page, 1))


def _queue_page(request: Request, who: Signed, page: int = 1, status_code: int = 200,
                errors: dict[str, dict[str, str]] | None = None, reasons: dict[str, str] | None = None) -> Response:
    with services(request).db.read() as session:  # FORBIDDEN page for anyone but an operator
        items, total = service.pending(session, who.caller, page, QUEUE_PAGE_SIZE)
    return render(request, "registration/queue.html", status_code, items=items, total=total, page=page,
                  page_size=QUEUE_PAGE_SIZE, errors=errors or {}, reasons=reasons or {})


@router.post("/queue/{ticket}/approve", response_class=HTMLResponse)
def approve(ticket: str, request: Request, who: Signed = Depends(signed_in)) -> Response:
    lang = language(request)
    try:
        with services(request).db.session() as session:
            decided = service.approve(session, who.caller, ticket)
            message = label("registration.queue.approved", lang, ticket=decided.ticket)
    except GGAError as err:
        return _refused_decision(request, who, err, ticket)
    return done(request, f"{HOME}/queue", message)


@router.post("/queue/{ticket}/reject", response_class=HTMLResponse)
def reject(ticket: str, request: Request, form: dict[str, Any] = Depends(posted),
           who: Signed = Depends(signed_in)) -> Response:
    lang = language(request)
    body, errors = build(Rejection, form, lang)
    if body is None:
        return _queue_page(request, who, status_code=422, errors={ticket: errors},
                           reasons={ticket: str(form.get("reason", ""))})
    try:
        with services(request).db.session() as session:
            decided = service.reject(session, who.caller, ticket, body.reason)
            message = label("registration.queue.rejected", lang, ticket=decided.ticket)
    except GGAError as err:
        return _refused_decision(request, who, err, ticket)
    return done(request, f"{HOME}/queue", message)


def _refused_decision(request: Request, who: Signed, err: GGAError, ticket: str) -> Response:
    """Not an operator: the 403 page; a request decided meanwhile: the queue with the reason above it."""
    if err.code in {ErrorCode.FORBIDDEN, ErrorCode.UNAUTHENTICATED}:
        raise err
    return _queue_page(request, who, status_code=err.status,
                       errors={ticket: {FORM: err.localized(language(request))}})


@router.get("/{ticket}/requested", response_class=HTMLResponse)
def requested(ticket: str, request: Request) -> Response:
    """Guide II "Finalisation de la demande": the ticket, the PDF to download, where to post it."""
    with services(request).db.read() as session:
        view = _with_names(session, service.request_view(service.get_request(session, ticket)))
    return render(request, "registration/requested.html", view=view, address=service.POSTAL_ADDRESS)


@router.get("/{ticket}/document")
def request_document(ticket: str, request: Request) -> Response:
    """The API's PDF, in the console's language."""
    with services(request).db.read() as session:
        found = service.form_request(session, ticket)
        pdf = document.render(session, found, language(request))
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="CSAM-{found.ticket}.pdf"'})
