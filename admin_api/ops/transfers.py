"""The transfer log as the ops role reads it, and return files posted by applications."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin_api.models import TransferEvent
from admin_api.paging import Page, PageRequest
from gga.errors import ErrorCode, GGAError


def view(e: TransferEvent) -> dict[str, Any]:
    return {"id": e.id, "at": e.at.isoformat(), "event": e.event, "protocol": e.protocol,
            "sender_number": e.sender_number, "technical_user": e.technical_user,
            "remote_address": e.remote_address, "file_name": e.file_name, "application": e.application,
            "environment": e.environment, "size": e.size, "sha256": e.sha256, "duration_ms": e.duration_ms,
            "result": e.result, "error_code": e.error_code, "details": e.details}


def search(session: Session, paging: PageRequest, *, sender: str | None = None, application: str | None = None,
           environment: str | None = None, result: str | None = None, event: str | None = None,
           since: datetime | None = None, until: datetime | None = None) -> Page:
    query = select(TransferEvent)
    for column, value in ((TransferEvent.sender_number, sender), (TransferEvent.application, application),
                          (TransferEvent.environment, environment), (TransferEvent.result, result),
                          (TransferEvent.event, event)):
        if value:
            query = query.where(column == value)
    if since:
        query = query.where(TransferEvent.at >= since)
    if until:
        query = query.where(TransferEvent.at < until)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(TransferEvent.id.desc()).offset(paging.offset).limit(paging.page_size))
    return Page(items=[view(e) for e in rows], total=total, page=paging.page, page_size=paging.page_size)


def get(session: Session, transfer_id: int) -> dict[str, Any]:
    event = session.get(TransferEvent, transfer_id)
    if event is None:
        raise GGAError(ErrorCode.NOT_FOUND, f"No transfer {transfer_id}.")
    return view(event)
