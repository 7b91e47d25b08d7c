"""The transfer log: one row in the database, one JSON line in the log and its metrics for every step."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from gateway.core import metrics
from gateway.core.groupcommit import insert_row
from kernel.clock import utcnow
from store.database import Database
from store.models import TransferEvent
from store.rawsql import RawInsert

log = logging.getLogger("gga.transfers")


class TransferLog:
    def __init__(self, db: Database):
        self.db = db

    def record(self, event: str, result: str, *, protocol: str = "-", error_code: str | None = None,
               **fields: Any) -> None:
        with self.db.session() as session:
            line = self.add(session, event, result, protocol=protocol, error_code=error_code, **fields)
        self.emit(line)

    def add(self, session: Session | Connection, event: str, result: str, *, protocol: str = "-",
            error_code: str | None = None, **fields: Any) -> dict[str, Any]:
        """The row, in the caller's transaction (a step and its log row are committed together); returns the
        JSON line to ``emit`` once that transaction is committed. ``latency_s`` (a submission's GO to its ACRF)
        goes to the log line and the metrics only."""
        row = {"at": utcnow(), "event": event, "result": result, "protocol": protocol, "error_code": error_code,
               **{k: v for k, v in fields.items() if k in _COLUMNS}}
        extra = {k: v for k, v in fields.items() if k not in _COLUMNS and k not in _LINE_ONLY and v is not None}
        if extra:
            row["details"] = extra
        insert_row(session, _INSERT, row)  # a plain INSERT, no ORM object (a group commit's: with its batch's)
        return {"at": row["at"].isoformat(), "event": event, "result": result, "protocol": protocol,
                "error_code": error_code, **{k: v for k, v in fields.items() if v is not None}}

    @staticmethod
    def emit(line: dict[str, Any]) -> None:
        """Log the committed step (the event is the message, the rest its context) and count it."""
        log.info(line["event"], extra={"context": {k: v for k, v in line.items() if k != "event"}})
        try:
            metrics.count_transfer(line)
        except Exception:  # a metric must never fail a transfer
            log.exception("counting %s", line.get("event"))


_COLUMNS = {"sender_number", "technical_user", "remote_address", "file_name", "application", "environment", "size",
            "sha256", "duration_ms", "details"}
_LINE_ONLY = {"latency_s"}
_INSERT = RawInsert(TransferEvent.__table__)  # on the DBAPI cursor: no ORM object, no execution context
