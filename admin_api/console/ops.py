"""Console screens of the ops role: the transfer log with the API's filters, one step of it with its submission
(files, ticket, ACRF, errors, steps), and the defender's bans with lifting one. The same policy actions and service
functions as GET /api/v1/transfers, GET /api/v1/transfers/{id} and GET/DELETE /api/v1/defender/bans."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from admin_api.console.formats import BRUSSELS
from admin_api.console.forms import FORM, build
from admin_api.console.labels import label
from admin_api.console.web import PREFIX, Signed, done, language, render, services, signed_in
from admin_api.http import RowId
from admin_api.identity import Caller
from admin_api.ops import defence, submissions, transfers
from admin_api.paging import PageRequest
from admin_api.policy import Action, authorize
from kernel.errors import ErrorCode, GGAError, spec
from store.database import Database
from store.models import ReceivedFile, Sender, Submission

router = APIRouter(prefix="/ops")
PAGE_SIZE = 25
STEPS_SHOWN = 200  # a submission's lines in the log: a handful in practice (parts, GO, decision, ACRF)
# what the gateway writes (gateway.core.translog callers); a value outside these is still shown as it is
EVENTS = ("login", "upload", "download", "delete", "submission", "delivery", "cancel", "ban", "session", "command")
RESULTS = ("ok", "accepted", "rejected", "refused", "incomplete", "failed", "ended")
ENVIRONMENTS = ("R", "T", "S")
FILTERS = ("sender", "technical_user", "application", "environment", "event", "result", "file_name", "ticket",
           "since", "until")


class LogFilter(BaseModel):
    """The query of GET /api/v1/transfers as the form sends it (the same limits), the period in Brussels days."""

    model_config = ConfigDict(extra="ignore")
    sender: str | None = Field(None, pattern=r"^\d{6}$")
    application: str | None = Field(None, pattern="^[A-Z]{4}$")
    environment: str | None = Field(None, pattern="^[RTS]$")
    result: str | None = Field(None, max_length=10)
    event: str | None = Field(None, max_length=12)
    file_name: str | None = Field(None, max_length=128)
    ticket: str | None = Field(None, max_length=13)
    technical_user: str | None = Field(None, max_length=64)
    since: date | None = None
    until: date | None = None
    page: int = Field(1, ge=1, le=1_000_000)

    @field_validator("since", "until", mode="before")
    @classmethod
    def _belgian_day(cls, value: Any) -> Any:
        """``30/11/2026`` as Belgians write it (``2026-11-30`` too)."""
        if isinstance(value, str) and "/" in value:
            return datetime.strptime(value, "%d/%m/%Y").date()
        return value

    @model_validator(mode="after")
    def _ordered(self) -> LogFilter:
        if self.since and self.until and self.until < self.since:
            raise ValueError("until before since")
        return self

    def search(self) -> dict[str, Any]:
        """The keyword arguments of ``transfers.search``: ``until`` is the whole day, up to midnight in Brussels."""
        return {"sender": self.sender, "application": self.application, "environment": self.environment,
                "result": self.result, "event": self.event, "file_name": self.file_name, "ticket": self.ticket,
                "technical_user": self.technical_user, "since": _midnight(self.since),
                "until": _midnight(self.until + timedelta(days=1) if self.until else None)}


def _midnight(day: date | None) -> datetime | None:
    return datetime.combine(day, time(0), tzinfo=BRUSSELS) if day else None


@router.get("/transfers", response_class=HTMLResponse)
def transfer_log(request: Request, who: Signed = Depends(signed_in)) -> Response:
    lang = language(request)
    values = {k: v.strip() for k, v in request.query_params.items() if k in (*FILTERS, "page") and v.strip()}
    if "application" in values:
        values["application"] = values["application"].upper()
    wanted, errors = build(LogFilter, values, lang)
    with services(request).db.read() as session:
        authorize(session, who.caller, Action.READ_TRANSFERS)
        found = None if wanted is None else transfers.search(
            session, PageRequest(page=wanted.page, page_size=PAGE_SIZE), **wanted.search())
    shown_errors = _worded(errors, lang)
    query = urlencode({k: v for k, v in values.items() if k != "page"})
    return render(request, "ops/transfers.html", 200 if wanted else 422, values=values, errors=shown_errors,
                  found=found, base=f"{PREFIX}/ops/transfers?{query + '&' if query else ''}", events=EVENTS,
                  results=RESULTS, environments=ENVIRONMENTS)


def _worded(errors: dict[str, str], lang: str) -> dict[str, str]:
    """Each wrong filter said with what it expects; the period's order above the form."""
    worded = {name: label(f"ops.invalid.{name}", lang) for name in errors if name in FILTERS}
    if errors.keys() - worded.keys():
        worded[FORM] = label("ops.invalid.period" if FORM in errors else "ops.invalid.page", lang)
        if FORM in errors:
            worded["until"] = worded[FORM]
    return worded


@router.get("/transfers/{transfer_id}", response_class=HTMLResponse)
def transfer_step(request: Request, transfer_id: RowId, who: Signed = Depends(signed_in)) -> Response:
    with services(request).db.read() as session:
        authorize(session, who.caller, Action.READ_TRANSFERS)
        step = transfers.get(session, transfer_id)
        ticket = _ticket_of(session, step)
        detail = _submission(session, ticket, language(request)) if ticket else None
    # the decision's findings are its submission's ACRF errors, shown worded below
    facts = {k: v for k, v in (step["details"] or {}).items() if not (detail and k == "errors")}
    return render(request, "ops/transfer.html", step=step, facts=facts, submission=detail, events=EVENTS,
                  results=RESULTS)


@router.get("/submissions/{ticket}", response_class=HTMLResponse)
def submission_page(request: Request, ticket: str = Path(max_length=13), who: Signed = Depends(signed_in)) -> Response:
    with services(request).db.read() as session:
        authorize(session, who.caller, Action.READ_TRANSFERS)
        detail = _submission(session, ticket, language(request))
    if detail is None:
        raise GGAError(ErrorCode.NOT_FOUND, details={"ticket": ticket})
    return render(request, "ops/transfer.html", step=None, facts={}, submission=detail, events=EVENTS,
                  results=RESULTS)


def _ticket_of(session: Session, step: dict[str, Any]) -> str | None:
    """The submission a step of the log belongs to: its decision carries the ticket; its ACRF is named once; a
    part or GO belongs to the first submission of that sender made after it was uploaded (a name can come back)."""
    ticket = (step["details"] or {}).get("ticket")
    name, number = step["file_name"], step["sender_number"]
    if isinstance(ticket, str) or not (name and number):
        return ticket if isinstance(ticket, str) else None
    of_sender = select(Submission.ticket).join(Sender, Sender.id == Submission.sender_id).where(
        Sender.number == number)
    found = session.scalar(of_sender.where(Submission.acrf_name == name).limit(1))
    if found is None:
        files = select(ReceivedFile.submission_id).where(ReceivedFile.name == name)
        after = datetime.fromisoformat(step["at"]) - timedelta(seconds=2)
        found = session.scalar(of_sender.where(or_(Submission.go_name == name, Submission.id.in_(files)),
                                               Submission.created_at >= after).order_by(Submission.id).limit(1))
    return found


def _submission(session: Session, ticket: str, lang: str) -> dict[str, Any] | None:
    """One submission as GET /api/v1/submissions shows it, with its files, its findings worded in ``lang`` and
    its lines of the transfer log (the API's ``ticket`` filter)."""
    row = session.execute(select(Submission, Sender.number).join(Sender, Sender.id == Submission.sender_id)
                          .where(Submission.ticket == ticket)).first()
    if row is None:
        return None
    files = session.scalars(select(ReceivedFile).where(ReceivedFile.submission_id == row[0].id)
                            .order_by(ReceivedFile.part, ReceivedFile.kind, ReceivedFile.name))
    steps = transfers.search(session, PageRequest(page=1, page_size=STEPS_SHOWN), ticket=ticket)
    return {"view": submissions.view(row), "findings": [_finding(f, lang) for f in row[0].errors or []],
            "files": [{"name": f.name, "kind": f.kind, "folder": f.folder, "size": f.size, "sha256": f.sha256,
                       "status": f.status, "error_code": f.error_code, "received_at": f.received_at} for f in files],
            "steps": list(reversed(steps.items)), "more_steps": steps.total > STEPS_SHOWN}


def _finding(stored: dict[str, Any], lang: str) -> dict[str, Any]:
    """An error of the decision with the code's sentence in the person's language (ACRF: ``error_id``)."""
    code, detail = stored.get("code", ""), stored.get("detail") or ""
    known = spec(ErrorCode(code)) if code in ErrorCode.__members__ else None
    return {"code": code, "error_id": stored.get("error_id") or code, "file_name": stored.get("file_name"),
            "sentence": known.describe(lang) if known else stored.get("message", ""),
            "detail": "" if known and detail == known.en else detail}  # the facts, when more than the sentence


@router.get("/bans", response_class=HTMLResponse)
def ban_list(request: Request, who: Signed = Depends(signed_in)) -> Response:
    return render(request, "ops/bans.html", bans=_bans(services(request).db, who.caller), errors={})


@router.get("/bans/lift", response_class=HTMLResponse)
def confirm_lift(request: Request, address: str = Query(max_length=45), who: Signed = Depends(signed_in)) -> Response:
    bans = _bans(services(request).db, who.caller)
    return render(request, "ops/lift.html", address=address, ban=next((b for b in bans if b.address == address), None))


@router.post("/bans/lift", response_class=HTMLResponse)
async def lift_ban(request: Request, who: Signed = Depends(signed_in)) -> Response:
    lang = language(request)
    address = str((await request.form()).get("address") or "")[:45]
    db = services(request).db
    try:
        await run_in_threadpool(_lift, db, who.caller, address)
    except GGAError as err:
        if err.code == ErrorCode.FORBIDDEN:
            raise
        bans = await run_in_threadpool(_bans, db, who.caller)
        return render(request, "ops/bans.html", err.status, bans=bans, errors={FORM: err.localized(lang)})
    return done(request, f"{PREFIX}/ops/bans", label("ops.bans.lifted", lang, address=address))


def _bans(db: Database, caller: Caller) -> list[defence.BanView]:
    with db.read() as session:
        authorize(session, caller, Action.MANAGE_DEFENDER)
        return defence.bans(session).items


def _lift(db: Database, caller: Caller, address: str) -> None:
    """DELETE /api/v1/defender/bans/{address}, in one unit of work."""
    with db.session() as session:
        defence.lift(session, caller, address)
