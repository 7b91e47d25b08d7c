"""Submissions as ops watch them: where each GO stands, which ones are being retried (leases, backoff), one
submission in detail (files, ACRF, errors, log lines), and which submission a line of the transfer log is about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from admin_api.identity import Caller
from admin_api.ops import transfers
from admin_api.ops.views import FindingView, ReceivedFileView, SubmissionDetail, SubmissionView, TransferView
from admin_api.paging import Page, PageRequest, newest_first
from admin_api.policy import Action, authorize
from kernel.errors import ErrorCode, GGAError, spec
from store.models import ReceivedFile, Sender, Submission

PENDING = ("received", "decided")
LOG_SHOWN = 200  # a submission's lines in the log: a handful in practice (parts, GO, decision, ACRF)


def view(row: Any) -> dict[str, Any]:
    sub, number = row
    return {"id": sub.id, "ticket": sub.ticket, "sender_number": number, "go": sub.go_name,
            "application": sub.application, "environment": sub.environment, "channel": sub.channel,
            "status": sub.status, "retrying": sub.status in PENDING and sub.last_error is not None,
            "attempts": sub.attempts, "last_error": sub.last_error,
            "next_attempt_at": sub.next_attempt_at.isoformat() if sub.next_attempt_at else None,
            "lease_owner": sub.lease_owner if sub.lease_until else None,
            "errors": [e["code"] for e in sub.errors or []], "acrf": sub.acrf_name,
            "created_at": sub.created_at.isoformat(),
            "processed_at": sub.processed_at.isoformat() if sub.processed_at else None}


def search(session: Session, paging: PageRequest, *, status: str | None, sender: str | None,
           application: str | None) -> Page:
    """``status``: received, decided, accepted, rejected, or ``retrying`` (pending after a failure)."""
    query = select(Submission, Sender.number).join(Sender, Sender.id == Submission.sender_id)
    if status == "retrying":
        query = query.where(Submission.status.in_(PENDING), Submission.last_error.is_not(None))
        status = None
    page = newest_first(session, query, paging, view, id_column=Submission.id, at_column=Submission.created_at,
                        equals={Submission.status: status, Sender.number: sender,
                                Submission.application: application})
    return page


def detail(session: Session, caller: Caller, ticket: str, lang: str) -> SubmissionDetail:
    """One submission for the ops role (404 for an unknown ticket): its facts, its ACRF and the errors it lists
    (each code's sentence in ``lang``), its files, and its lines of the transfer log (the ``ticket`` filter of
    the log), in the order they were written."""
    authorize(session, caller, Action.READ_TRANSFERS)
    row = session.execute(select(Submission, Sender.number).join(Sender, Sender.id == Submission.sender_id)
                          .where(Submission.ticket == ticket)).first()
    if row is None:
        raise GGAError(ErrorCode.NOT_FOUND, key="not_found.submission", params={"ticket": ticket})
    sub = row[0]
    files = session.scalars(select(ReceivedFile).where(ReceivedFile.submission_id == sub.id)
                            .order_by(ReceivedFile.part, ReceivedFile.kind, ReceivedFile.name))
    lines = transfers.search(session, PageRequest(page=1, page_size=LOG_SHOWN), ticket=ticket)
    return SubmissionDetail(
        submission=SubmissionView(**view(row)), acrf=sub.acrf_name,
        errors=[_finding(f, lang) for f in sub.errors or []],
        files=[ReceivedFileView(name=f.name, kind=f.kind, folder=f.folder, part=f.part, size=f.size,
                                sha256=f.sha256, status=f.status, error_code=f.error_code, received_at=f.received_at)
               for f in files],
        log=[TransferView(**line) for line in reversed(lines.items)], more_log=lines.total > LOG_SHOWN)


def _finding(stored: dict[str, Any], lang: str) -> FindingView:
    """An error of the decision as recorded (``gateway.acrf.Finding.as_json``), its code's sentence in ``lang``."""
    code, detail = str(stored.get("code", "")), str(stored.get("detail") or "")
    known = spec(ErrorCode(code)) if code in ErrorCode.__members__ else None
    return FindingView(code=code, error_id=str(stored.get("error_id") or code), file_name=stored.get("file_name"),
                       message=known.describe(lang) if known else str(stored.get("message") or ""),
                       detail="" if known and detail == known.en else detail)  # the facts, when more than the code


# how a line of the log was tied to its submission: the decision names its ticket; an ACRF's name is unique; an
# upload's line keeps no file id, so its file is the one of that sender and name (and SHA-256 when the line has
# one) received last before the line (both are written in one transaction, the file first)
LinkKind = Literal["decision", "acrf", "file", "name"]


@dataclass(frozen=True)
class LineLink:
    ticket: str
    kind: LinkKind


def submission_of(session: Session, line: dict[str, Any]) -> LineLink | None:
    """The submission a line of the transfer log (``transfers.view``) is about, and how it was found; None for a
    line about no submission (a login, a part whose GO has not come)."""
    ticket = (line["details"] or {}).get("ticket")
    if isinstance(ticket, str):
        return LineLink(ticket, "decision")
    name, number = line["file_name"], line["sender_number"]
    if not (name and number) or (line["event"] == "upload" and line["result"] == "incomplete"):  # no file kept
        return None
    acrf = session.scalar(select(Submission.ticket).join(Sender, Sender.id == Submission.sender_id)
                          .where(Sender.number == number, Submission.acrf_name == name))
    if acrf is not None:
        return LineLink(acrf, "acrf")
    files = select(ReceivedFile.id, ReceivedFile.submission_id).join(Sender, Sender.id == ReceivedFile.sender_id).where(
        Sender.number == number, ReceivedFile.name == name,
        ReceivedFile.received_at <= datetime.fromisoformat(line["at"]))
    channel = next((c for c, protocols in transfers.PROTOCOLS_OF_CHANNEL.items() if line["protocol"] in protocols),
                   None)
    if channel is not None:  # the same name sent over another channel is another submission's file
        files = files.where(ReceivedFile.channel == channel)
    if line["sha256"]:
        files = files.where(ReceivedFile.sha256 == line["sha256"])
    if line["event"] == "upload" and line["result"] == "refused":  # a part refused while streaming is kept so
        files = files.where(ReceivedFile.status == "refused")
    found = session.execute(files.order_by(ReceivedFile.received_at.desc(), ReceivedFile.id.desc()).limit(1)).first()
    if found is None:
        return None
    ticket = session.scalar(select(Submission.ticket).where(
        or_(Submission.id == found.submission_id, Submission.go_file_id == found.id)).limit(1))
    return LineLink(ticket, "file" if line["sha256"] else "name") if ticket else None
