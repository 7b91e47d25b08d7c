"""Group commit: the records of uploads that end together share one transaction (and one fsync of each folder they
were linked into). Each upload is answered only after the commit that holds its record: never before.

Many small uploads each paid a transaction of their own: a turn on SQLite's one write lock, a WAL fsync, a folder
fsync, the session's set-up, on PostgreSQL BEGIN and COMMIT round trips. One writer thread takes whatever records
are waiting, up to ``MAX_BATCH``, and commits them at once; while it commits, the next ones gather.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from gateway.core.spool import fsync_dir
from store.database import PING_AFTER_IDLE_S, Database
from store.rawsql import RawInsert, RawStatement

log = logging.getLogger("gga.groupcommit")
MAX_BATCH = 64

Work = Callable[[Connection], Any]  # Core statements only: no ORM session's bookkeeping per batch
_batch = threading.local()  # the writer's transaction under way, and the rows its records left for its end


def insert_row(session: Connection | Session, statement: RawInsert, row: dict[str, Any]) -> None:
    """The row inserted in the caller's transaction. Inside a group commit's on PostgreSQL, it is queued for one
    INSERT per statement at the end of the batch, with the others' (one round trip where there were as many as
    records): only for rows nothing in the same transaction reads back."""
    write_rows(session, statement, [row])


def write_rows(session: Connection | Session, statement: RawInsert | RawStatement, rows: list[dict[str, Any]]
               ) -> None:
    """``insert_row`` for several rows of one statement, an INSERT or an UPDATE per row (executemany)."""
    queued = getattr(_batch, "rows", None)
    if not rows:
        return
    if queued is not None and _batch.connection is session:
        for row in rows:
            queued.setdefault((statement, frozenset(row)), []).append(row)
    elif len(rows) == 1 and isinstance(statement, RawInsert):
        statement.run(session, rows[0])
    else:
        statement.run_many(session, rows)


def flush_queued(session: Connection | Session) -> None:
    """The rows queued so far by this batch, written now: before a row whose id must follow theirs (a GO after the
    parts recorded in the same batch, as a submission takes the parts whose ids are below its GO's)."""
    if getattr(_batch, "rows", None) and _batch.connection is session:
        _flush(session)  # type: ignore[arg-type]
        _batch.rows = {}


@contextmanager
def _deferring(connection: Connection) -> Iterator[None]:
    """Rows are queued where a statement is a round trip (PostgreSQL); on SQLite there is none to save, and the
    executemany cost more than it saved (paired runs, docs/performance.md)."""
    _batch.connection, _batch.rows = connection, ({} if connection.dialect.name != "sqlite" else None)
    try:
        yield
    finally:
        _batch.connection = _batch.rows = None


def _flush(connection: Connection) -> None:
    """The queued rows, one executemany per statement and set of columns (once, just before the commit)."""
    for (statement, _), values in (_batch.rows or {}).items():
        statement.run_many(connection, values)


def _alive(connection: Connection) -> bool:
    """The pool's ping, on a connection kept out of the pool (its checkout would have pinged it)."""
    try:
        connection.dialect.do_ping(connection.connection.dbapi_connection)
    except Exception:
        return False
    return True


class _Item:
    __slots__ = ("folder", "future", "prepare", "work")

    def __init__(self, work: Work, folder: Path | None, prepare: Callable[[], None] | None = None):
        self.work, self.folder, self.prepare = work, folder, prepare
        self.future: Future[Any] = Future()

    def prepared(self) -> bool:
        """``prepare`` run once, before the folder's fsync; False (the future failed) if it raised."""
        prepare, self.prepare = self.prepare, None
        if prepare is not None:
            try:
                prepare()
            except Exception as exc:
                self.future.set_exception(exc)
                return False
        return True


class GroupCommit:
    def __init__(self, db: Database, name: str = "group-commit"):
        self.db, self.name = db, name
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._held: Connection | None = None  # the writer's connection between batches (its thread's only)
        self._held_since = 0.0

    def run(self, work: Work, folder: Path | None = None) -> Any:
        """``work(connection)`` in a transaction shared with other callers', after an fsync of ``folder`` (where a
        file was just linked). Returns its result once that transaction is committed; raises if it was not. Blocking:
        from a worker thread, never inside a transaction of the caller's."""
        return self.submit(work, folder).result()

    def submit(self, work: Work, folder: Path | None = None, prepare: Callable[[], None] | None = None
               ) -> Future[Any]:
        """``run`` without waiting: the future is resolved once the transaction is committed. ``prepare`` (making
        the file durable and linking it into ``folder``) runs on the writer first, so a caller on an event loop
        hands an upload over with no thread of its own in between (no hop there and back per file)."""
        item = _Item(work, folder, prepare)
        with self._lock:
            inline = self._closed
            if not inline:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                    self._thread.start()
                self._queue.put(item)
        if inline:  # closed (a stop under way): alone, on the caller's thread
            self._alone(item)
        return item.future

    def close(self) -> None:
        """Commit what is queued, then stop the writer; later calls commit alone on their own thread."""
        with self._lock:
            self._closed = True
            thread, self._thread = self._thread, None
            self._queue.put(None)
        if thread is not None:
            thread.join(timeout=30)
            if not thread.is_alive() and self._held is not None:
                self._held.close()
                self._held = None

    def _loop(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            try:
                self._commit(batch)
            except BaseException as exc:  # never leave a caller waiting
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise

    def _commit(self, batch: list[_Item]) -> None:
        """One transaction for the batch. A record that fails (a constraint, a bug) would fail the others with it:
        the batch is rolled back and each record is tried alone, so only its own upload is refused. A failed
        commit answers the error to every upload of the batch (none of its records was kept)."""
        batch = self._synced([item for item in batch if item.prepared()])
        if not batch:
            return
        in_work = False
        try:
            with self._transaction() as connection, _deferring(connection):
                results = []
                for item in batch:
                    in_work = True
                    results.append(item.work(connection))
                    in_work = False
                in_work = True  # a queued row that fails is a record's: each is then tried alone
                _flush(connection)
                in_work = False
        except Exception as exc:
            if in_work and len(batch) > 1:
                log.info("a record of a group commit failed (%s): each recorded alone", type(exc).__name__)
                for item in batch:
                    self._alone(item, synced=True)
                return
            for item in batch:
                item.future.set_exception(exc)
            return
        for item, result in zip(batch, results, strict=True):
            item.future.set_result(result)

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A transaction on the writer's own connection, kept between batches that follow each other (a pool
        checkout and its reset per batch were a quarter of the writer's interpreter time, profiled). One idle
        for longer than the pool's ping window is pinged first, as a checkout would, so a server restarted
        meanwhile costs a new connection, not a batch; one whose batch failed is closed (a fresh one next time)."""
        held, self._held = self._held, None
        if held is not None and time.monotonic() - self._held_since > PING_AFTER_IDLE_S and not _alive(held):
            held.invalidate()  # a server restarted meanwhile: a new connection, not a failed batch
            held.close()
            held = None
        connection = held or self.db.engine.connect()
        try:
            with connection.begin():
                yield connection
        except BaseException:
            connection.close()
            raise
        self._held, self._held_since = connection, time.monotonic()

    @staticmethod
    def _synced(batch: list[_Item]) -> list[_Item]:
        """Each folder fsynced once; the records of a folder that fails fail alone, the others go on."""
        failed: dict[Path, OSError] = {}
        for folder in {item.folder for item in batch if item.folder is not None}:
            try:
                fsync_dir(folder)
            except OSError as exc:
                failed[folder] = exc
        for item in batch:
            if item.folder in failed:
                item.future.set_exception(failed[item.folder])
        return [item for item in batch if item.folder not in failed]

    def _alone(self, item: _Item, *, synced: bool = False) -> None:
        if not item.prepared() or not (synced or self._synced([item])):
            return
        try:
            with self.db.engine.begin() as connection, _deferring(connection):
                result = item.work(connection)
                _flush(connection)
        except Exception as exc:
            item.future.set_exception(exc)
        else:
            item.future.set_result(result)
