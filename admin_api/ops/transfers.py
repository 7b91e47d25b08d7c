"""The transfer log as the ops role reads it: filtered, newest first, one event by id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from admin_api.paging import Page, PageRequest, newest_first
from kernel.errors import ErrorCode, GGAError
from store.models import ReceivedFile, Sender, Submission, TransferEvent


def view(e: TransferEvent) -> dict[str, Any]:
    return {"id": e.id, "at": e.at.isoformat(), "event": e.event, "protocol": e.protocol,
            "sender_number": e.sender_number, "technical_user": e.technical_user,
            "remote_address": e.remote_address, "file_name": e.file_name, "application": e.application,
            "environment": e.environment, "size": e.size, "sha256": e.sha256, "duration_ms": e.duration_ms,
            "result": e.result, "error_code": e.error_code, "details": e.details}


def search(session: Session, paging: PageRequest, *, sender: str | None = None, application: str | None = None,
           environment: str | None = None, result: str | None = None, event: str | None = None,
           since: datetime | None = None, until: datetime | None = None, file_name: str | None = None,
           ticket: str | None = None, technical_user: str | None = None) -> Page:
    query = select(TransferEvent)
    if ticket:
        query = query.where(_of_ticket(session, ticket))
    return newest_first(session, query, paging, view, id_column=TransferEvent.id,
                        at_column=TransferEvent.at, since=since, until=until,
                        equals={TransferEvent.sender_number: sender, TransferEvent.application: application,
                                TransferEvent.environment: environment, TransferEvent.result: result,
                                TransferEvent.event: event, TransferEvent.file_name: file_name,
                                TransferEvent.technical_user: technical_user})


def _of_ticket(session: Session, ticket: str) -> ColumnElement[bool]:
    """The lines of one submission: its decision carries the ticket (``details.ticket``, JSON read the same way
    on SQLite and PostgreSQL); the others name one of its files (parts, GO, ACRF) for its sender."""
    decision = (TransferEvent.event == "submission") & (TransferEvent.details["ticket"].as_string() == ticket)
    found = session.execute(select(Submission.id, Submission.go_name, Submission.acrf_name, Sender.number)
                            .join(Sender, Submission.sender_id == Sender.id).where(Submission.ticket == ticket)).first()
    if found is None:
        return decision
    names = {found.go_name, found.acrf_name, *session.scalars(
        select(ReceivedFile.name).where(ReceivedFile.submission_id == found.id))} - {None}
    return decision | ((TransferEvent.sender_number == found.number) & TransferEvent.file_name.in_(names))


def get(session: Session, transfer_id: int) -> dict[str, Any]:
    event = session.get(TransferEvent, transfer_id)
    if event is None:
        raise GGAError(ErrorCode.NOT_FOUND, key="not_found.transfer", params={"transfer_id": transfer_id})
    return view(event)
