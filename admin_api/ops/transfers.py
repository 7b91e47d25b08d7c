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


# the protocols a channel's sessions log (a submission's files came over its channel; FTP's may be plain or TLS)
PROTOCOLS_OF_CHANNEL = {"SFTP": ("SFTP",), "FTP": ("FTP", "FTPS"), "WS": ("WS",)}


def _of_ticket(session: Session, ticket: str) -> ColumnElement[bool]:
    """The lines of one submission: its decision carries the ticket (``details.ticket``, JSON read the same way
    on SQLite and PostgreSQL); its uploads are its files' names over its own channel with their content (the same
    name sent over another channel, or an earlier attempt with other bytes, is another submission's); its ACRF's
    lines name the ACRF (a name the gateway gives once)."""
    decision = (TransferEvent.event == "submission") & (TransferEvent.details["ticket"].as_string() == ticket)
    found = session.execute(select(Submission.id, Submission.go_file_id, Submission.go_name, Submission.acrf_name,
                                   Submission.channel, Sender.number)
                            .join(Sender, Submission.sender_id == Sender.id).where(Submission.ticket == ticket)).first()
    if found is None:
        return decision
    files = session.execute(select(ReceivedFile.name, ReceivedFile.sha256).where(
        (ReceivedFile.submission_id == found.id) | (ReceivedFile.id == found.go_file_id))).all()
    names = {found.go_name, *(f.name for f in files)}
    hashes = {f.sha256 for f in files if f.sha256}
    mine = TransferEvent.sender_number == found.number
    uploads = (mine & TransferEvent.file_name.in_(names)
               & TransferEvent.protocol.in_(PROTOCOLS_OF_CHANNEL.get(found.channel, (found.channel,)))
               & (TransferEvent.sha256.is_(None) | TransferEvent.sha256.in_(hashes)))
    acrf = mine & (TransferEvent.file_name == found.acrf_name) if found.acrf_name else decision
    return decision | uploads | acrf


def get(session: Session, transfer_id: int) -> dict[str, Any]:
    event = session.get(TransferEvent, transfer_id)
    if event is None:
        raise GGAError(ErrorCode.NOT_FOUND, key="not_found.transfer", params={"transfer_id": transfer_id})
    return view(event)
