"""Rows claimed with a lease and retried with a backoff (submissions, outbox events, outbox mails): one condition
for "a worker may take it now", whatever the table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_


def claimable(model: Any, now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Its lease free (never taken, or expired) and its next attempt due. ``model`` has ``lease_until`` and
    ``next_attempt_at`` columns."""
    return (or_(model.lease_until.is_(None), model.lease_until < now),
            or_(model.next_attempt_at.is_(None), model.next_attempt_at <= now))
