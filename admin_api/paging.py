"""Pages of list endpoints: ``page`` (from 1) and ``page_size`` query parameters, ``total`` in the answer; and the
rule of every list endpoint that a query parameter it does not know answers 422 (a misspelt filter would else
return every row)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


class PageRequest(BaseModel):
    page: int = 1
    page_size: int = 50

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    def of(self, items: list[Any]) -> dict[str, Any]:
        """A list a service holds whole (a catalogue, an enterprise's domains, the bans) in the same envelope as
        the lists paged in the database, so every list endpoint takes ``page`` and ``page_size`` alike."""
        return {"items": items[self.offset:self.offset + self.page_size], "total": len(items), "page": self.page,
                "page_size": self.page_size}


async def known_query_only(request: Request) -> None:
    """422 VALIDATION_ERROR for a query parameter the route does not declare (its own or its dependencies')."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = _KNOWN.get(id(route))
    if known is None:
        known = _KNOWN[id(route)] = frozenset(_query_names(dependant))
    unknown = [name for name in request.query_params if name not in known]
    if unknown:
        raise RequestValidationError([{"loc": ("query", name), "type": "extra_forbidden", "input": None,
                                       "msg": f"unknown query parameter (known: {', '.join(sorted(known))})"}
                                      for name in unknown])


_KNOWN: dict[int, frozenset[str]] = {}


def _query_names(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def page_request(request: Request, page: int = Query(1, ge=1, le=1_000_000),
                       page_size: int = Query(50, ge=1, le=500)) -> PageRequest:
    # async: no I/O here, and a plain def would cost a hop to the thread pool and back on every call
    await known_query_only(request)  # every paged list is strict about its query
    return PageRequest(page=page, page_size=page_size)


class Page(BaseModel):
    items: list[Any]
    total: int
    page: int
    page_size: int


def newest_first(session: Session, query: Select, paging: PageRequest, view: Callable[[Any], Any], *,
                 id_column: Any, at_column: Any, equals: dict[Any, Any] | None = None,
                 since: datetime | None = None, until: datetime | None = None) -> Page:
    """A log (audit trail, transfer log) filtered by exact values and a time window, newest first."""
    for column, value in (equals or {}).items():
        if value:
            query = query.where(column == value)
    if since:
        query = query.where(at_column >= since)
    if until:
        query = query.where(at_column < until)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(id_column.desc()).offset(paging.offset).limit(paging.page_size))
    rows = (r[0] for r in rows) if len(query.column_descriptions) == 1 else rows  # a model, or a joined row
    return Page(items=[view(r) for r in rows], total=total, page=paging.page, page_size=paging.page_size)
