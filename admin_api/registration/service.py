"""Rules of both procedures; one function designates the GAP whichever procedure led there."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin_api import audit, mail
from admin_api.identity import Caller
from admin_api.policy import Action, Role, authorize, roles_in
from admin_api.registration.schemas import (
    ExceptionalRegistration,
    ManagerDesignation,
    StandardRegistration,
)
from admin_api.registry import is_current_legal_representative, person_name
from kernel.clock import utcnow
from kernel.errors import ErrorCode, GGAError
from kernel.i18n import translate
from kernel.tickets import new_ticket
from store.models import CoMainManager, Enterprise, Person, RegistrationRequest

POSTAL_ADDRESS = ("Centre de Contact Eranova", "Smals", "Avenue Fonsny 20", "1060 Bruxelles")


@dataclass(frozen=True)
class Designation:
    """Who becomes GAP, with which contact, asked by whom."""

    manager_niss: str
    manager_email: str
    manager_phone: str
    requester_niss: str
    requester_email: str
    requester_phone: str
    language: str = "fr"  # the requester's (the form's Accept-Language): the registration's mails speak it

    @classmethod
    def of(cls, requester_niss: str, body: ManagerDesignation, language: str = "fr") -> Designation:
        m = body.main_access_manager
        if m == "self":
            return cls(requester_niss, body.contact.email, body.contact.phone,
                       requester_niss, body.contact.email, body.contact.phone, language)
        return cls(m.niss, m.email, m.phone, requester_niss, body.contact.email, body.contact.phone, language)


SYSTEM = "system"  # the actor of what follows from another's decision (a request closed by a registration)


def _known_enterprise(session: Session, number: str) -> Enterprise:
    """Locked for the transaction (PostgreSQL; SQLite's write lock is taken at BEGIN): racing registrations and
    designations of one enterprise happen one after the other, so it has one GAP."""
    enterprise = session.get(Enterprise, number, with_for_update=True)
    if enterprise is None:
        raise GGAError(ErrorCode.ENTERPRISE_UNKNOWN, details={"enterprise_number": number}, key="enterprise_unknown")
    return enterprise


def _refuse_if_registered(session: Session, enterprise: Enterprise, designation: Designation, *,
                          anonymous: bool = False) -> None:
    """``anonymous``: the exceptional procedure's caller is not logged in, so nothing says who the GAP is (the
    guide shows the GAP's name to the legal representative logged in with eID)."""
    if enterprise.main_manager_niss is None:
        return
    if anonymous:
        raise GGAError(ErrorCode.ENTERPRISE_ALREADY_REGISTERED, key="enterprise_already_registered.anonymous",
                       details={"enterprise_number": enterprise.number})
    if enterprise.main_manager_niss == designation.manager_niss == designation.requester_niss:
        raise GGAError(ErrorCode.ALREADY_MAIN_ACCESS_MANAGER, details={"enterprise_number": enterprise.number})
    raise GGAError(ErrorCode.ENTERPRISE_ALREADY_REGISTERED, key="enterprise_already_registered", details={
        "enterprise_number": enterprise.number,
        "main_access_manager": person_name(session, enterprise.main_manager_niss) or enterprise.main_manager_niss})


def _require_confirmation(confirm: bool) -> None:
    if not confirm:
        raise GGAError(ErrorCode.CONFIRMATION_REQUIRED)


def register_standard(session: Session, caller: Caller, body: StandardRegistration,
                      language: str = "fr") -> dict[str, Any]:
    """Guide I: a legal representative logged in with eID registers the enterprise and designates the GAP."""
    if caller.niss is None:
        raise GGAError(ErrorCode.UNAUTHENTICATED)
    if not caller.has_eid:
        raise GGAError(ErrorCode.EID_REQUIRED)
    _require_confirmation(body.confirm)
    enterprise = _known_enterprise(session, body.enterprise_number)
    if Role.LEGAL_REPRESENTATIVE not in roles_in(session, caller, enterprise.number):
        raise GGAError(ErrorCode.NOT_LEGAL_REPRESENTATIVE, details={"enterprise_number": enterprise.number})
    designation = Designation.of(caller.niss, body, language)
    _refuse_if_registered(session, enterprise, designation)
    now = utcnow()  # filed and decided at once: one moment (decided_at came out before created_at)
    request = RegistrationRequest(ticket=new_ticket(), procedure="standard", status="approved",
                                  enterprise_number=enterprise.number, decided_by=caller.niss, created_at=now,
                                  decided_at=now, **_request_fields(designation))
    session.add(request)
    designate(session, caller, enterprise, designation)
    _close_pending(session, enterprise.number, request.ticket)
    return registration_result(session, enterprise, request)


def register_exceptional(session: Session, body: ExceptionalRegistration, language: str = "fr") -> RegistrationRequest:
    """Guide II: no eID; the request gets a ticket and waits for the signed paper form and an operator."""
    _require_confirmation(body.confirm)
    enterprise = _known_enterprise(session, body.enterprise_number)
    lr = body.legal_representative
    if not is_current_legal_representative(session, enterprise.number, lr.niss):
        raise GGAError(ErrorCode.NOT_LEGAL_REPRESENTATIVE, details={"enterprise_number": enterprise.number})
    known = session.get(Person, lr.niss)
    if known is not None and not (_same_name(known.first_name, lr.first_name)
                                  and _same_name(known.last_name, lr.last_name)):
        raise GGAError(ErrorCode.LEGAL_REPRESENTATIVE_NAME_MISMATCH, details={"field": "legal_representative"})
    designation = Designation.of(lr.niss, body, language)
    _refuse_if_registered(session, enterprise, designation, anonymous=True)
    request = RegistrationRequest(ticket=new_ticket(), procedure="exceptional", status="pending",
                                  enterprise_number=enterprise.number, requester_first_name=lr.first_name,
                                  requester_last_name=lr.last_name, **_request_fields(designation))
    session.add(request)
    session.flush()
    audit.record(session, "anonymous", "registration.exceptional.requested", f"ticket:{request.ticket}",
                 enterprise.number, after=_request_view(request))
    return request


def _request_fields(d: Designation) -> dict[str, str]:
    return {"requester_niss": d.requester_niss, "requester_email": d.requester_email,
            "requester_phone": d.requester_phone, "manager_niss": d.manager_niss,
            "manager_email": d.manager_email, "manager_phone": d.manager_phone, "language": d.language}


def _same_name(a: str, b: str) -> bool:
    def fold(s: str) -> str:
        s = unicodedata.normalize("NFKD", s)
        return " ".join("".join(c for c in s if not unicodedata.combining(c)).casefold().split())
    return fold(a) == fold(b)


def get_request(session: Session, ticket: str, *, lock: bool = False) -> RegistrationRequest:
    """``lock``: the row locked until the caller's transaction ends (read again, not from the session's cache)."""
    request = session.get(RegistrationRequest, ticket.upper(), with_for_update=lock, populate_existing=lock)
    if request is None:
        raise GGAError(ErrorCode.NOT_FOUND, details={"ticket": ticket}, key="not_found.ticket")
    return request


def form_request(session: Session, ticket: str) -> RegistrationRequest:
    """The request whose paper form is asked for: only the exceptional procedure has one (guide II)."""
    request = get_request(session, ticket)
    if request.procedure != "exceptional":
        raise GGAError(ErrorCode.NOT_FOUND, details={"ticket": request.ticket}, key="not_found.form")
    return request


def _pending(session: Session, caller: Caller, ticket: str) -> RegistrationRequest:
    """The request, locked until the decision commits: two operators deciding at once (approve and reject, or
    twice the same) are one decision and one ``REQUEST_ALREADY_DECIDED`` (PostgreSQL; SQLite's write lock)."""
    authorize(session, caller, Action.DECIDE_REGISTRATION)
    request = get_request(session, ticket, lock=True)
    if request.status != "pending":
        raise GGAError(ErrorCode.REQUEST_ALREADY_DECIDED, details={"status": request.status})
    return request


def approve(session: Session, caller: Caller, ticket: str) -> RegistrationRequest:
    """An operator received the signed form: the enterprise is registered as in the standard procedure."""
    request = _pending(session, caller, ticket)
    enterprise = _known_enterprise(session, request.enterprise_number)
    if not is_current_legal_representative(session, enterprise.number, request.requester_niss):
        # the register may have ended the function since the request was filed (guide: "valable actuellement")
        raise GGAError(ErrorCode.NOT_LEGAL_REPRESENTATIVE, details={"enterprise_number": enterprise.number})
    designation = Designation(request.manager_niss, request.manager_email, request.manager_phone,
                              request.requester_niss, request.requester_email, request.requester_phone,
                              request.language)
    _refuse_if_registered(session, enterprise, designation)
    before = _request_view(request)
    request.status, request.decided_by, request.decided_at = "approved", caller.niss, utcnow()
    designate(session, caller, enterprise, designation)
    audit.record(session, caller, "registration.exceptional.approved", f"ticket:{ticket}", enterprise.number,
                 before, _request_view(request))
    _close_pending(session, enterprise.number, ticket)
    return request


def _close_pending(session: Session, enterprise_number: str, ticket: str) -> None:
    """The enterprise is registered (request ``ticket``, either procedure): its other requests still pending are
    rejected with the reason, their requesters mailed (they would stay pending for ever, their approval refused)."""
    for other in session.scalars(select(RegistrationRequest).where(
            RegistrationRequest.enterprise_number == enterprise_number, RegistrationRequest.status == "pending",
            RegistrationRequest.ticket != ticket).with_for_update()):
        # in its requester's language, naming no other ticket (whoever holds one reads that request and its form)
        _reject(session, SYSTEM, other, translate("registration.superseded", other.language))


def reject(session: Session, caller: Caller, ticket: str, reason: str) -> RegistrationRequest:
    return _reject(session, caller, _pending(session, caller, ticket), reason)


def _reject(session: Session, caller: Caller | str, request: RegistrationRequest, reason: str) -> RegistrationRequest:
    """Rejected with its reason, mailed to whoever filed it. ``caller``: the operator, or ``SYSTEM`` for a
    request another's registration closed (nobody decided it)."""
    ticket = request.ticket
    before = _request_view(request)
    request.status, request.reason = "rejected", reason
    request.decided_by, request.decided_at = caller if isinstance(caller, str) else caller.niss, utcnow()
    mail.queue_message(session, request.requester_email, request.language, "mail.rejected", ticket=request.ticket,
                       enterprise_number=request.enterprise_number, reason=reason)
    audit.record(session, caller, "registration.exceptional.rejected", f"ticket:{ticket}",
                 request.enterprise_number, before, _request_view(request))
    return request


def designate(session: Session, actor: Caller, enterprise: Enterprise, d: Designation) -> None:
    """Make ``d.manager_niss`` the GAP, automatically access manager of every domain (guide III)."""
    before = _manager_view(enterprise)
    enterprise.main_manager_niss = d.manager_niss
    enterprise.main_manager_email, enterprise.main_manager_phone = d.manager_email, d.manager_phone
    enterprise.registered_at = enterprise.registered_at or utcnow()
    co = session.get(CoMainManager, (enterprise.number, d.manager_niss))
    if co is not None:
        session.delete(co)
    name = person_name(session, d.manager_niss) or d.manager_niss
    facts = {"enterprise": enterprise.name, "enterprise_number": enterprise.number}
    mail.queue_message(session, d.manager_email, d.language, "mail.main_manager", **facts)
    if d.requester_niss != d.manager_niss:
        mail.queue_message(session, d.requester_email, d.language, "mail.designated", manager=name, **facts)
    audit.record(session, actor, "enterprise.main_manager.designated", f"enterprise:{enterprise.number}",
                 enterprise.number, before, _manager_view(enterprise))


def change_main_manager(session: Session, caller: Caller, number: str, body: ManagerDesignation,
                        language: str = "fr") -> dict[str, Any]:
    """A legal representative designates another GAP for a registered enterprise."""
    if caller.niss is not None and not caller.has_eid:
        raise GGAError(ErrorCode.EID_REQUIRED)
    _require_confirmation(body.confirm)
    enterprise = _known_enterprise(session, number)
    authorize(session, caller, Action.CHANGE_MAIN_MANAGER, number)
    assert caller.niss is not None
    if enterprise.main_manager_niss is None:
        raise GGAError(ErrorCode.ENTERPRISE_NOT_REGISTERED)
    designation = Designation.of(caller.niss, body, language)
    if designation.manager_niss == enterprise.main_manager_niss:
        raise GGAError(ErrorCode.ALREADY_MAIN_ACCESS_MANAGER, key="already_main_manager.other")
    designate(session, caller, enterprise, designation)
    return manager_view(session, enterprise)


def _manager_view(e: Enterprise) -> dict[str, Any]:
    return {"main_manager_niss": e.main_manager_niss, "email": e.main_manager_email, "phone": e.main_manager_phone}


def manager_view(session: Session, e: Enterprise) -> dict[str, Any]:
    return {"niss": e.main_manager_niss, "name": person_name(session, e.main_manager_niss),
            "email": e.main_manager_email, "phone": e.main_manager_phone}


def _request_view(r: RegistrationRequest) -> dict[str, Any]:
    return {"ticket": r.ticket, "status": r.status, "enterprise_number": r.enterprise_number,
            "manager_niss": r.manager_niss}


def registration_result(session: Session, e: Enterprise, r: RegistrationRequest) -> dict[str, Any]:
    """The guide's confirmation as ``(key, facts)`` in ``message``: the route words it (``http.worded``)."""
    manager = manager_view(session, e)
    facts = {"enterprise": e.name, "email": r.manager_email}
    if r.manager_niss == r.requester_niss:
        message = ("registration.done.self", facts)
    else:
        message = ("registration.done.other", facts | {"manager": manager["name"] or r.manager_niss})
    return {"ticket": r.ticket, "enterprise_number": e.number, "enterprise_name": e.name, "address": e.address,
            "main_access_manager": manager, "message": message}


def request_view(r: RegistrationRequest) -> dict[str, Any]:
    return {"ticket": r.ticket, "procedure": r.procedure, "status": r.status,
            "enterprise_number": r.enterprise_number, "created_at": r.created_at.isoformat(),
            "decided_at": r.decided_at.isoformat() if r.decided_at else None, "reason": r.reason,
            "document": f"/api/v1/registrations/{r.ticket}/document" if r.procedure == "exceptional" else None}


def pending(session: Session, caller: Caller, page: int, page_size: int) -> tuple[list[dict[str, Any]], int]:
    """The contact centre's queue (operator): exceptional requests waiting for their signed form, oldest first,
    with the enterprise's and the designated person's names."""
    authorize(session, caller, Action.DECIDE_REGISTRATION)
    waiting = (RegistrationRequest.status == "pending", RegistrationRequest.procedure == "exceptional")
    total = session.scalar(select(func.count()).select_from(RegistrationRequest).where(*waiting)) or 0
    rows = session.execute(
        select(RegistrationRequest, Enterprise.name).outerjoin(
            Enterprise, Enterprise.number == RegistrationRequest.enterprise_number).where(*waiting)
        .order_by(RegistrationRequest.created_at, RegistrationRequest.ticket)
        .offset((page - 1) * page_size).limit(page_size))
    items = [{"request": r, "enterprise_name": name or "",
              "manager_name": person_name(session, r.manager_niss) or ""} for r, name in rows]
    return items, total
