from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from sqlalchemy.orm import Session

from admin_api.http import LANGUAGE, UNIT_OF_WORK, caller, worded
from admin_api.identity import Caller
from admin_api.registration import document, service
from admin_api.registration.schemas import ExceptionalRegistration, Rejection, StandardRegistration
from admin_api.registration.views import ExceptionalRequestView, RegistrationResult, RequestView
from kernel.i18n import translate

router = APIRouter(prefix="/registrations", tags=["registrations"])
PDF = {200: {"description": "The form to print, sign and post",
             "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}


@router.post("", status_code=201, response_model=RegistrationResult)
def register_standard(body: StandardRegistration, who: Caller = Depends(caller),
                      session: Session = UNIT_OF_WORK, lang: str = LANGUAGE) -> dict:
    return worded(service.register_standard(session, who, body, lang), lang)


@router.post("/exceptional", status_code=201, response_model=ExceptionalRequestView)
def register_exceptional(body: ExceptionalRegistration, session: Session = UNIT_OF_WORK,
                         lang: str = LANGUAGE) -> dict:
    request = service.register_exceptional(session, body, lang)
    view = service.request_view(request)
    view["postal_address"] = list(service.POSTAL_ADDRESS)
    view["message"] = translate("registration.requested", lang, ticket=request.ticket,
                                address=service.POSTAL_ADDRESS)
    return view


@router.get("/{ticket}", response_model=RequestView)
def read_request(ticket: str, session: Session = UNIT_OF_WORK) -> dict:
    """Readable by whoever holds the (unguessable) ticket, as the guide's contact centre does."""
    return service.request_view(service.get_request(session, ticket))


@router.get("/{ticket}/document", response_class=Response, responses=PDF)
def request_document(ticket: str, session: Session = UNIT_OF_WORK, lang: str = LANGUAGE) -> Response:
    """The form in the language of whoever downloads it (``Accept-Language``; French by default): the legal
    representative has no language in the data."""
    request = service.form_request(session, ticket)
    pdf = document.render(session, request, lang)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="CSAM-{request.ticket}.pdf"'})


@router.post("/{ticket}/approve", response_model=RequestView)
def approve(ticket: str, who: Caller = Depends(caller), session: Session = UNIT_OF_WORK) -> dict:
    return service.request_view(service.approve(session, who, ticket))


@router.post("/{ticket}/reject", response_model=RequestView)
def reject(ticket: str, body: Rejection, who: Caller = Depends(caller),
           session: Session = UNIT_OF_WORK) -> dict:
    return service.request_view(service.reject(session, who, ticket, body.reason))
