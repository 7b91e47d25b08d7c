"""Filtered, paged and streamed user look-ups, written so the indexes of ``users`` serve them."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator

from sqlalchemy import ColumnElement, Select, exists, func, select
from sqlalchemy.orm import Session

from admin_api import identifiers
from admin_api.models import User, UserApplication
from admin_api.paging import PageRequest
from admin_api.user.schemas import UserFilters


def fold(text: str) -> str:
    """Case- and accent-insensitive key ("Élodie" -> "elodie")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def _prefix(column, prefix: str, dialect: str) -> ColumnElement[bool]:  # type: ignore[no-untyped-def]
    """``column`` starts with ``prefix``, in a form each database serves from a b-tree index."""
    if dialect == "sqlite":
        escaped = "".join(f"[{c}]" if c in "*?[]" else c for c in prefix)
        return column.op("GLOB")(escaped + "*")
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(escaped + "%", escape="\\")


def filtered(session: Session, domain_id: int, f: UserFilters) -> Select:
    dialect = session.get_bind().dialect.name
    query = select(User).where(User.domain_id == domain_id)
    if f.last_name:
        query = query.where(_prefix(User.last_name_key, fold(f.last_name), dialect))
    if f.first_name:
        query = query.where(_prefix(User.first_name_key, fold(f.first_name), dialect))
    if f.username:
        query = query.where(_prefix(User.username, f.username, dialect))
    if f.type:
        query = query.where(User.type == f.type)
    if f.status:
        query = query.where(User.status == f.status)
    if f.niss:
        query = query.where(User.niss == identifiers.niss(f.niss, "niss"))
    if f.application:
        query = query.where(exists().where(UserApplication.user_id == User.id,
                                           UserApplication.code == f.application.upper()))
    return query


def page(session: Session, query: Select, paging: PageRequest) -> tuple[list[User], int]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.scalars(query.order_by(User.last_name_key, User.first_name_key, User.id)
                           .offset(paging.offset).limit(paging.page_size)).all()
    return list(rows), total


CSV_COLUMNS = ["last_name", "first_name", "username", "type", "niss", "status", "applications", "email",
               "local_email", "language", "title", "created_at"]


def _cell(value: str) -> str:
    # a leading = + - @ would make a spreadsheet run the cell as a formula
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def stream_csv(session: Session, query: Select, chunk: int = 2000) -> Iterator[bytes]:
    """UTF-8 with a BOM (spreadsheets then read accents right), header row, one chunk of rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield ("\ufeff" + buffer.getvalue()).encode()
    ordered = query.with_only_columns(
        User.id, User.last_name, User.first_name, User.username, User.type, User.niss, User.status, User.email,
        User.local_email, User.language, User.title, User.created_at,
    ).order_by(User.last_name_key, User.first_name_key, User.id)
    result = session.execute(ordered.execution_options(yield_per=chunk))
    for rows in result.partitions():
        apps = _applications(session, [r.id for r in rows])
        buffer.seek(0)
        buffer.truncate()
        for r in rows:
            writer.writerow([_cell(r.last_name), _cell(r.first_name), _cell(r.username), r.type,
                             identifiers.format_niss(r.niss), r.status, " ".join(apps.get(r.id, [])),
                             _cell(r.email), _cell(r.local_email or ""), r.language, _cell(r.title),
                             r.created_at.date().isoformat()])
        yield buffer.getvalue().encode()


def _applications(session: Session, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for user_id, code in session.execute(select(UserApplication.user_id, UserApplication.code)
                                         .where(UserApplication.user_id.in_(ids)).order_by(UserApplication.code)):
        out.setdefault(user_id, []).append(code)
    return out
