"""The transfer log: one row in the database and one JSON line in the log for every step."""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy.orm import Session

from store.database import Database
from store.models import TransferEvent

log = logging.getLogger("gga.transfers")


class TransferLog:
    def __init__(self, db: Database):
        self.db = db

    def record(self, event: str, result: str, *, protocol: str = "-", error_code: str | None = None,
               **fields: Any) -> None:
        with self.db.session() as session:
            line = self.add(session, event, result, protocol=protocol, error_code=error_code, **fields)
        self.emit(line)

    def add(self, session: Session, event: str, result: str, *, protocol: str = "-", error_code: str | None = None,
            **fields: Any) -> dict[str, Any]:
        """The row, in the caller's transaction (a step and its log row are committed together); returns the
        JSON line to ``emit`` once that transaction is committed."""
        row = TransferEvent(event=event, result=result, protocol=protocol, error_code=error_code,
                            **{k: v for k, v in fields.items() if k in _COLUMNS})
        extra = {k: v for k, v in fields.items() if k not in _COLUMNS and v is not None}
        if extra:
            row.details = extra
        session.add(row)
        session.flush()
        return {"at": row.at.isoformat(), "event": event, "result": result, "protocol": protocol,
                "error_code": error_code, **{k: v for k, v in fields.items() if v is not None}}

    @staticmethod
    def emit(line: dict[str, Any]) -> None:
        log.info(json.dumps(line, default=str, ensure_ascii=False))


_COLUMNS = {"sender_number", "technical_user", "remote_address", "file_name", "application", "environment", "size",
            "sha256", "duration_ms", "details"}
