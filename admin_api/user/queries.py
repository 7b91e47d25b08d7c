"""Filtered, paged and streamed user look-ups, written so the indexes of ``users`` serve them."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from fastapi.responses import StreamingResponse
from sqlalchemy import ColumnElement, Select, String, cast, exists, func, select
from sqlalchemy.orm import Session

from admin_api.paging import PageRequest
from admin_api.user.schemas import UserFilters
from kernel import identifiers
from store.database import Database
from store.models import User, UserApplication
from store.models.people import NAME_KEY_LENGTH


def fold(text: str) -> str:
    """Case- and accent-insensitive key ("Élodie" -> "elodie"), cut to its column's length: decomposing can make
    one character many ("ﷺ" is 18), and a 100-character name's key must still fit. A filter is cut the same way,
    so a prefix still finds the names it starts."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()[:NAME_KEY_LENGTH]


def _prefix(column, prefix: str, dialect: str) -> ColumnElement[bool]:  # type: ignore[no-untyped-def]
    """``column`` starts with ``prefix``, in a form each database serves from a b-tree index."""
    if dialect == "sqlite":
        escaped = "".join(f"[{c}]" if c in "*?[]" else c for c in prefix)
        return column.op("GLOB")(escaped + "*")
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(escaped + "%", escape="\\")


@dataclass
class UserQuery:
    """A domain's users matching the guide's filters, in the two shapes the planners serve best."""

    domain_id: int
    conditions: list[ColumnElement[bool]]
    application: str | None

    def rows(self) -> Select:
        # EXISTS walks the name-ordered index and stops after one page
        query = select(User).where(User.domain_id == self.domain_id, *self.conditions)
        if self.application:
            query = query.where(exists().where(UserApplication.user_id == User.id,
                                               UserApplication.code == self.application))
        return query.order_by(User.last_name_key, User.first_name_key, User.id)

    def count(self) -> Select:
        # counting is cheapest from the (code, user_id) index of the applications
        query = select(func.count()).select_from(User).where(User.domain_id == self.domain_id, *self.conditions)
        if self.application:
            query = query.join(UserApplication, UserApplication.user_id == User.id).where(
                UserApplication.code == self.application)
        return query


def filtered(session: Session, domain_id: int, f: UserFilters) -> UserQuery:
    dialect = session.get_bind().dialect.name
    conditions: list[ColumnElement[bool]] = []
    if f.last_name:
        conditions.append(_prefix(User.last_name_key, fold(f.last_name), dialect))
    if f.first_name:
        conditions.append(_prefix(User.first_name_key, fold(f.first_name), dialect))
    if f.username:
        conditions.append(_prefix(User.username, f.username, dialect))
    if f.type:
        conditions.append(User.type == f.type)
    if f.status:
        conditions.append(User.status == f.status)
    if f.niss:
        conditions.append(User.niss == identifiers.niss(f.niss, "niss"))
    return UserQuery(domain_id, conditions, f.application.upper() if f.application else None)


def page(session: Session, query: UserQuery, paging: PageRequest) -> tuple[list[User], int]:
    total = session.scalar(query.count()) or 0
    rows = session.scalars(query.rows().offset(paging.offset).limit(paging.page_size)).all()
    return list(rows), total


CSV_COLUMNS = ["last_name", "first_name", "username", "type", "niss", "status", "applications", "email",
               "local_email", "language", "title", "created_at"]


FORMULA_START = ("=", "+", "-", "@")


def _cell(value: str) -> str:
    r"""A text a spreadsheet cannot run (OWASP CSV injection): one that would start a formula gets a leading quote.

    Spreadsheets skip leading blanks and line breaks before looking for = + - @, so ``" =..."`` and ``"\n=..."``
    are formulas too; a leading tab or CR is quoted whatever follows.
    """
    if value[:1] in ("\t", "\r") or value.lstrip()[:1] in FORMULA_START:
        return "'" + value
    return value


def stream_csv(session: Session, query: UserQuery, chunk: int = 5000) -> Iterator[bytes]:
    """UTF-8 with a BOM (spreadsheets then read accents right), header row, one chunk of rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield ("\ufeff" + buffer.getvalue()).encode()
    aggregate = func.string_agg if session.get_bind().dialect.name == "postgresql" else func.group_concat
    applications = select(aggregate(UserApplication.code, " ")).where(
        UserApplication.user_id == User.id).scalar_subquery()
    ordered = query.rows().with_only_columns(
        User.last_name, User.first_name, User.username, User.type, User.niss, User.status, applications,
        User.email, User.local_email, User.language, User.title, cast(User.created_at, String))
    # Core rows, not ORM objects: an export of 100,000 users is mostly row handling
    result = session.connection().execution_options(yield_per=chunk).execute(ordered)
    for rows in result.partitions():
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([_cell(r[0]), _cell(r[1]), _cell(r[2]), r[3], identifiers.format_niss(r[4]), r[5],
                          " ".join(sorted((r[6] or "").split())), _cell(r[7]), _cell(r[8] or ""), r[9],
                          _cell(r[10]), r[11][:10]] for r in rows)
        yield buffer.getvalue().encode()


def csv_download(db: Database, domain_id: int, filters: UserFilters) -> StreamingResponse:
    """The filtered users as a CSV download (API and console), read in its own session: the stream outlives the
    request's. The caller has checked who asks and the filters before the 200 goes out."""
    def rows() -> Iterator[bytes]:
        with db.read() as stream_session:
            yield from stream_csv(stream_session, filtered(stream_session, domain_id, filters))

    return StreamingResponse(rows(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="users-domain-{domain_id}.csv"'})
