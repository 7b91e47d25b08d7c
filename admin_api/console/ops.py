"""Console screens of the ops role: the transfer log with the API's filters, one step of it with its submission
(files, ticket, ACRF, errors, steps), and the defender's bans with lifting one. The same policy actions and service
functions as GET /api/v1/transfers, GET /api/v1/transfers/{id}, GET /api/v1/submissions/{ticket} and
GET/DELETE /api/v1/defender/bans."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from admin_api.console.formats import BRUSSELS
from admin_api.console.forms import FORM, build
from admin_api.console.labels import label
from admin_api.console.web import PREFIX, Signed, done, language, render, services, signed_in
from admin_api.http import RowId
from admin_api.identity import Caller
from admin_api.ops import defence, submissions, transfers
from admin_api.ops.views import SubmissionDetail
from admin_api.paging import PageRequest
from admin_api.policy import Action, authorize
from kernel.errors import ErrorCode, GGAError
from store.database import Database
from store.models.transfers import RESULTS  # what the gateway writes: the filter offers them all

router = APIRouter(prefix="/ops")
PAGE_SIZE = 25
# the events the filter offers, each with its label (the SFTP refusals' own events are shown as they are)
EVENTS = ("login", "upload", "download", "delete", "submission", "delivery", "cancel", "ban", "session", "command")
ENVIRONMENTS = ("R", "T", "S")
FILTERS = ("sender", "technical_user", "application", "environment", "event", "result", "file_name", "ticket",
           "since", "until")


class LogFilter(BaseModel):
    """The query of GET /api/v1/transfers as the form sends it (the same limits), the period in Brussels days."""

    model_config = ConfigDict(extra="ignore")
    sender: str | None = Field(None, pattern=r"^[0-9]{6}$")
    application: str | None = Field(None, pattern="^[A-Z]{4}$")
    environment: str | None = Field(None, pattern="^[RTS]$")
    result: str | None = Field(None, max_length=10)
    event: str | None = Field(None, max_length=12)
    file_name: str | None = Field(None, max_length=128)
    ticket: str | None = Field(None, max_length=13)
    technical_user: str | None = Field(None, max_length=64)
    # days a transfer can have: far-off ones (01/01/0001, 31/12/9999) would overflow the day after or the time zone
    since: date | None = Field(None, ge=date(1970, 1, 1), le=date(9998, 12, 31))
    until: date | None = Field(None, ge=date(1970, 1, 1), le=date(9998, 12, 31))
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
    lang = language(request)
    with services(request).db.read() as session:
        authorize(session, who.caller, Action.READ_TRANSFERS)
        step = transfers.get(session, transfer_id)
        link = submissions.submission_of(session, step)
        detail = _detail(session, who.caller, link.ticket, lang) if link else None
    # the decision's findings are its submission's ACRF errors, shown worded below
    facts = {k: v for k, v in (step["details"] or {}).items() if not (detail and k == "errors")}
    return render(request, "ops/transfer.html", step=step, facts=facts, submission=detail,
                  link=link.kind if detail and link else None, events=EVENTS, results=RESULTS)


def _detail(session: Session, caller: Caller, ticket: str, lang: str) -> SubmissionDetail | None:
    """The submission a line names, or None when that ticket has none (a decision about a submission since gone)."""
    try:
        return submissions.detail(session, caller, ticket, lang)
    except GGAError as err:
        if err.code == ErrorCode.NOT_FOUND:
            return None
        raise


@router.get("/submissions/{ticket}", response_class=HTMLResponse)
def submission_page(request: Request, ticket: str = Path(max_length=13), who: Signed = Depends(signed_in)) -> Response:
    """GET /api/v1/submissions/{ticket} as a page."""
    with services(request).db.read() as session:
        detail = submissions.detail(session, who.caller, ticket, language(request))
    return render(request, "ops/transfer.html", step=None, facts={}, submission=detail, link=None, events=EVENTS,
                  results=RESULTS)


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
