"""The audit trail: who changed what, when, with the state before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin_api.identity import Caller
from admin_api.models import AuditRecord
from admin_api.paging import Page, PageRequest


def record(session: Session, actor: Caller | str, action: str, target: str, enterprise_number: str | None = None,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> None:
    label = actor if isinstance(actor, str) else actor.label
    session.add(AuditRecord(actor=label, action=action, target=target, enterprise_number=enterprise_number,
                            before=before, after=after))


def search(session: Session, paging: PageRequest, enterprise_number: str | None = None, actor: str | None = None,
           action: str | None = None, since: datetime | None = None, until: datetime | None = None) -> Page:
    query = select(AuditRecord)
    if enterprise_number:
        query = query.where(AuditRecord.enterprise_number == enterprise_number)
    if actor:
        query = query.where(AuditRecord.actor == actor)
    if action:
        query = query.where(AuditRecord.action == action)
    if since:
        query = query.where(AuditRecord.at >= since)
    if until:
        query = query.where(AuditRecord.at < until)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(AuditRecord.id.desc()).offset(paging.offset).limit(paging.page_size))
    items = [{"id": r.id, "at": r.at.isoformat(), "actor": r.actor, "action": r.action, "target": r.target,
              "enterprise_number": r.enterprise_number, "before": r.before, "after": r.after} for r in rows]
    return Page(items=items, total=total, page=paging.page, page_size=paging.page_size)
