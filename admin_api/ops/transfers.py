"""The transfer log as the ops role reads it: filtered, newest first, one event by id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api.paging import Page, PageRequest, newest_first
from kernel.errors import ErrorCode, GGAError
from store.models import TransferEvent


def view(e: TransferEvent) -> dict[str, Any]:
    return {"id": e.id, "at": e.at.isoformat(), "event": e.event, "protocol": e.protocol,
            "sender_number": e.sender_number, "technical_user": e.technical_user,
            "remote_address": e.remote_address, "file_name": e.file_name, "application": e.application,
            "environment": e.environment, "size": e.size, "sha256": e.sha256, "duration_ms": e.duration_ms,
            "result": e.result, "error_code": e.error_code, "details": e.details}


def search(session: Session, paging: PageRequest, *, sender: str | None = None, application: str | None = None,
           environment: str | None = None, result: str | None = None, event: str | None = None,
           since: datetime | None = None, until: datetime | None = None) -> Page:
    return newest_first(session, select(TransferEvent), paging, view, id_column=TransferEvent.id,
                        at_column=TransferEvent.at, since=since, until=until,
                        equals={TransferEvent.sender_number: sender, TransferEvent.application: application,
                                TransferEvent.environment: environment, TransferEvent.result: result,
                                TransferEvent.event: event})


def get(session: Session, transfer_id: int) -> dict[str, Any]:
    event = session.get(TransferEvent, transfer_id)
    if event is None:
        raise GGAError(ErrorCode.NOT_FOUND, f"No transfer {transfer_id}.")
    return view(event)
