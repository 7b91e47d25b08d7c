"""Statements run straight on the DBAPI cursor: the few every small upload and submission runs in the group
commit's transaction (the file's row, its transfer-log rows, the submission's claim, decision and close).

Profiled under load, SQLAlchemy's execution of these (an execution context, parameter processing and a result
object per statement, on statements that take microseconds in SQLite) was most of the group commit writer's
interpreter time, and that writer is what every upload's close waits for. Here each statement is compiled once per
dialect; a call converts its values with the columns' own type processors (UTC datetimes, JSON), runs one cursor
call, and turns a DBAPI error into SQLAlchemy's (``IntegrityError``...), so callers catch what they caught before.
It runs inside the caller's SQLAlchemy transaction, on its connection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import Executable

Processor = Callable[[Any], Any] | None
_MARKERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}  # sqlite3's and psycopg's: positional everywhere


def _connection(session: Connection | Session) -> Connection:
    return session.connection() if isinstance(session, Session) else session


def _marker(dialect: Dialect) -> str:
    marker = _MARKERS.get(dialect.paramstyle)
    if marker is None:
        raise NotImplementedError(f"paramstyle {dialect.paramstyle}")
    return marker


def _result(column: Column[Any], dialect: Dialect) -> Processor:
    return column.type.dialect_impl(dialect).result_processor(dialect, None)


def _converted(values: Iterable[Any], processors: Sequence[Processor]) -> tuple[Any, ...]:
    return tuple(v if p is None or v is None else p(v) for v, p in zip(values, processors, strict=True))


class _Run:
    """One statement's cursor call. A DBAPI error goes through SQLAlchemy's own handling, as its execution's would:
    raised as SQLAlchemy's (``IntegrityError``...), and a lost server invalidates the connection and the pool's
    older ones (a private method, the one place its execution does it; tests/store/test_rawsql.py holds it)."""

    @staticmethod
    def call(connection: Connection, sql: str, args: Any, many: bool = False) -> Any:
        cursor = connection.connection.cursor()
        try:
            (cursor.executemany if many else cursor.execute)(sql, args)
        except Exception as exc:
            connection._handle_dbapi_exception(exc, sql, args, cursor, None)  # raises
        return cursor


class RawInsert:
    """``INSERT INTO table (the row's columns) VALUES (...)``, optionally ``RETURNING`` one column. The columns'
    Python-side defaults (``received_at``, ``status``...) are filled in as SQLAlchemy's insert would."""

    def __init__(self, table: Table, returning: str | None = None):
        self.table, self.returning = table, returning
        self._defaults = {c.name: c.default for c in table.columns
                          if c.default is not None and (c.default.is_scalar or c.default.is_callable)}
        self._compiled: dict[tuple[str, frozenset[str]], _Compiled] = {}

    def _for(self, dialect: Dialect, keys: frozenset[str]) -> _Compiled:
        found = self._compiled.get((dialect.name, keys))
        if found is None:
            statement = insert(self.table)
            returned = [self.table.c[self.returning]] if self.returning else []
            if returned:
                statement = statement.returning(*returned)
            found = _Compiled(statement, returned, dialect, column_keys=sorted(keys | self._defaults.keys()))
            self._compiled[(dialect.name, keys)] = found
        return found

    def _row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        missing = self._defaults.keys() - row.keys()
        return {**row, **{n: self._default(n) for n in missing}} if missing else dict(row)

    def _default(self, name: str) -> Any:
        default = self._defaults[name]
        return default.arg if default.is_scalar else default.arg(None)  # type: ignore[attr-defined]

    def run(self, session: Connection | Session, row: Mapping[str, Any]) -> Any:
        """The row inserted; the ``returning`` column's value, or None."""
        connection = _connection(session)
        compiled = self._for(connection.dialect, frozenset(row))
        cursor = _Run.call(connection, compiled.sql, compiled.args(self._row(row)))
        return cursor.fetchone()[0] if self.returning else None

    def run_many(self, session: Connection | Session, rows: Sequence[Mapping[str, Any]]) -> None:
        """Rows with the same columns, in one ``executemany``."""
        connection = _connection(session)
        compiled = self._for(connection.dialect, frozenset(rows[0]))
        _Run.call(connection, compiled.sql, [compiled.args(self._row(row)) for row in rows], many=True)


class RawStatement:
    """A Core UPDATE or SELECT on table columns with named ``bindparam``s (no expanding ones), compiled once per
    dialect. ``columns``: what its rows hold (a SELECT's or a RETURNING's), converted by their types."""

    def __init__(self, statement: Executable, columns: Sequence[Column[Any]] = ()):
        self.statement, self.columns = statement, tuple(columns)
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = _Compiled(self.statement, self.columns, dialect)
        return found

    def run(self, session: Connection | Session, params: Mapping[str, Any]) -> int:
        """Runs it; the rows it changed (an UPDATE)."""
        connection = _connection(session)
        compiled = self._for(connection.dialect)
        return _Run.call(connection, compiled.sql, compiled.args(params)).rowcount

    def rows(self, session: Connection | Session, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Runs it; its rows as ``{column name: value}``."""
        connection = _connection(session)
        compiled = self._for(connection.dialect)
        cursor = _Run.call(connection, compiled.sql, compiled.args(params))
        return [dict(zip(compiled.names, _converted(row, compiled.results), strict=True)) for row in cursor.fetchall()]

    def run_many(self, session: Connection | Session, rows: Sequence[Mapping[str, Any]]) -> None:
        connection = _connection(session)
        compiled = self._for(connection.dialect)
        _Run.call(connection, compiled.sql, [compiled.args(row) for row in rows], many=True)


class _Compiled:
    """A statement's SQL for one dialect, its fixed values (literals) and how each value and result is converted."""

    def __init__(self, statement: Executable, columns: Sequence[Column[Any]], dialect: Dialect,
                 column_keys: list[str] | None = None):
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)
        binds = dict(compiled.binds)  # by their names in the SQL (anonymous ones numbered)
        if any(bind.expanding for bind in binds.values()) or compiled.escaped_bind_names:
            raise NotImplementedError("expanding or escaped bind parameters")
        _marker(dialect)  # a paramstyle this module knows, or refused here
        self.sql, self.positional = compiled.string, compiled.positional
        self.order = tuple(compiled.positiontup or ()) if self.positional else tuple(set(compiled.bind_names.values()))
        self.fixed = {key: bind.effective_value for key, bind in binds.items() if not bind.required}
        # JSON's None is JSON null, as SQLAlchemy binds it (its processor runs for None); other types' is SQL NULL
        self.evaluate_none = frozenset(key for key, bind in binds.items() if bind.type.should_evaluate_none)
        if getattr(statement, "is_update", False) and any(c.onupdate is not None for c in statement.table.c):
            raise NotImplementedError("a table with onupdate columns: SQLAlchemy's execution fills them")
        self.binds = {key: bind.type.dialect_impl(dialect).bind_processor(dialect) for key, bind in binds.items()}
        self.names = tuple(c.name for c in columns)
        self.results = tuple(_result(c, dialect) for c in columns)

    def args(self, params: Mapping[str, Any]) -> tuple | dict:
        values = {**self.fixed, **params}
        converted = {key: self._bound(key, values[key]) for key in set(self.order)}
        return tuple(converted[key] for key in self.order) if self.positional else converted

    def _bound(self, key: str, value: Any) -> Any:
        processor = self.binds[key]
        if processor is None or (value is None and key not in self.evaluate_none):
            return value
        return processor(value)
