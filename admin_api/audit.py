"""The audit trail: who changed what, when, with the state before and after."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api.identity import Caller
from admin_api.paging import Page, PageRequest, newest_first
from kernel import identifiers
from store.models import AuditRecord


def record(session: Session, actor: Caller | str, action: str, target: str, enterprise_number: str | None = None,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> None:
    label = actor if isinstance(actor, str) else actor.label
    session.add(AuditRecord(actor=label, action=action, target=target, enterprise_number=enterprise_number,
                            before=before, after=after))


def search(session: Session, paging: PageRequest, enterprise_number: str | None = None, actor: str | None = None,
           action: str | None = None, since: datetime | None = None, until: datetime | None = None) -> Page:
    """Filters read numbers as everywhere else (an enterprise number or a NISS with dots, spaces or dashes; an
    invalid one is refused, not an empty page)."""
    if enterprise_number is not None:
        enterprise_number = identifiers.enterprise_number(enterprise_number)
    if actor is not None and re.fullmatch(r"[0-9][0-9\s.\-]{9,}[0-9]", actor.strip()):  # a person: their NISS
        actor = identifiers.niss(actor.strip(), field="actor")
    return newest_first(session, select(AuditRecord), paging, _view, id_column=AuditRecord.id,
                        at_column=AuditRecord.at, since=since, until=until,
                        equals={AuditRecord.enterprise_number: enterprise_number, AuditRecord.actor: actor,
                                AuditRecord.action: action})


def _view(r: AuditRecord) -> dict[str, Any]:
    return {"id": r.id, "at": r.at.isoformat(), "actor": r.actor, "action": r.action, "target": r.target,
            "enterprise_number": r.enterprise_number, "before": r.before, "after": r.after}
