"""Submissions as ops watch them: where each GO stands, and which ones are being retried (leases, backoff)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api.paging import Page, PageRequest, newest_first
from store.models import Sender, Submission

PENDING = ("received", "decided")


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
