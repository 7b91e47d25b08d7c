"""Time is UTC and timezone-aware everywhere: one clock, and one column type that keeps it so on every database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


BRUSSELS = ZoneInfo("Europe/Brussels")  # the senders' and readers' time: a file's date is a Belgian day


def belgian_day(moment: datetime) -> date:
    """The date in Belgium at ``moment`` (an aware datetime): 23:30 UTC on 30 November is already 1 December."""
    return moment.astimezone(BRUSSELS).date()


def as_utc(moment: datetime) -> datetime:
    """A naive value is UTC (what SQLite hands back); an aware one is converted."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """``TIMESTAMP WITH TIME ZONE`` on PostgreSQL; on SQLite, which keeps no zone, values come back aware too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)

__all__ = ["BRUSSELS", "UTC", "UtcDateTime", "as_utc", "belgian_day", "utcnow"]
