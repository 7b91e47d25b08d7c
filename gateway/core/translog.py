"""The transfer log: one row in the database and one JSON line in the log for every step."""

from __future__ import annotations

import json
import logging
from typing import Any

from store.database import Database
from store.models import TransferEvent

log = logging.getLogger("gga.transfers")


class TransferLog:
    def __init__(self, db: Database):
        self.db = db

    def record(self, event: str, result: str, *, protocol: str = "-", error_code: str | None = None,
               **fields: Any) -> None:
        row = TransferEvent(event=event, result=result, protocol=protocol, error_code=error_code,
                            **{k: v for k, v in fields.items() if k in _COLUMNS})
        extra = {k: v for k, v in fields.items() if k not in _COLUMNS and v is not None}
        if extra:
            row.details = extra
        with self.db.session() as session:
            session.add(row)
            session.flush()
            line = {"at": row.at.isoformat(), "event": event, "result": result, "protocol": protocol,
                    "error_code": error_code, **{k: v for k, v in fields.items() if v is not None}}
        log.info(json.dumps(line, default=str, ensure_ascii=False))


_COLUMNS = {"sender_number", "technical_user", "remote_address", "file_name", "application", "environment", "size",
            "sha256", "duration_ms", "details"}
