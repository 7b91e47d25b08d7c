"""Engine, sessions and migrations. SQLite is the embedded default, PostgreSQL (psycopg 3) the production one."""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger("gga.database")


def _sqlite_folder(url: str) -> None:
    """SQLite makes the file, not its folder: a fresh data folder must exist first."""
    path = url.split("///", 1)[-1]
    if url.startswith("sqlite") and path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str, *, immediate: bool = True) -> Engine:
    """``immediate`` (SQLite): every transaction takes the write lock at BEGIN, so two racing writers queue up
    (and the loser meets the unique index: a 409) instead of failing with "database is locked" mid-way; they queue
    on a ``WriteGate``."""
    _sqlite_folder(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        if immediate:
            path = url.split("///", 1)[-1]
            gate = WriteGate(path if path and path != ":memory:" else None)
            gate.install(engine)
            weakref.finalize(engine, gate.close)
        else:
            event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20)
    _ping_when_idle(engine)
    return engine


PING_AFTER_IDLE_S = 1.0  # as HikariCP's "alive bypass window" (500 ms there)


def _ping_when_idle(engine: Engine) -> None:
    """A pooled connection is pinged before use only when it sat unused for ``PING_AFTER_IDLE_S``: SQLAlchemy's
    ``pool_pre_ping`` cost one more round trip on every checkout, every transaction of a small upload. One found dead
    is replaced at once (the pool tries another), as with ``pool_pre_ping``; a connection used a moment ago is
    alive but for a server stopped in that moment, whose first statement then fails and invalidates the pool as
    before."""

    @event.listens_for(engine.pool, "checkin")
    def checkin(_dbapi, record) -> None:  # type: ignore[no-untyped-def]
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def checkout(dbapi, record, _proxy) -> None:  # type: ignore[no-untyped-def]
        since = record.info.get("idle_since")
        if since is not None and time.monotonic() - since < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi)
        except Exception as exc:
            raise DisconnectionError(f"a pooled connection is gone: {exc}") from exc


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    dbapi_conn.isolation_level = None  # pysqlite's own BEGIN off: the "begin" event says how to begin
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.close()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    """Apply every migration (``gga db upgrade``; ``serve`` does it too). Instances starting together take turns:
    an advisory lock on PostgreSQL, a file lock beside the SQLite database."""
    _sqlite_folder(url)
    config = alembic_config(url)
    if not url.startswith("postgresql"):
        with _file_lock(url.split("///", 1)[-1]):
            command.upgrade(config, "head")
        return
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(7242026)"))  # released at commit
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()


@contextmanager
def _file_lock(database_path: str) -> Iterator[None]:
    if not database_path or database_path == ":memory:":
        yield
        return
    fd = os.open(f"{database_path}.migrate-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def heads() -> list[str]:
    """The migrations' head revisions: exactly one, or two branches would each think they are the schema."""
    return list(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


class _ProcessTurn:
    """The other processes' write turn: an ``flock`` beside the database. Taken at once when it is free; otherwise
    a thread of its own waits for it in a blocking ``flock``, so the writer is woken the moment another process
    gives the turn back (polling it with sleeps of 1-10 ms overshot by about 5 ms a wait under many small writes)
    and still gives up after a timeout, as SQLite's own lock did, behind a stuck holder.

    Writers of one process come here one at a time (``WriteGate``'s lock). The waiting thread is the only one that
    ever blocks on the lock: while it waits (even for a writer that gave up), nobody else tries the lock on this
    descriptor, since a second ``flock`` on a descriptor that holds it succeeds at once and the waiter would then
    give back a turn that is not its own."""

    def __init__(self, lock_path: str):
        self._fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        self._changed = threading.Condition()
        self._wanted = self._granted = self._waiting = self._closed = False
        self._thread: threading.Thread | None = None

    def close(self) -> None:
        """A waiter that wakes after this never touches the descriptor's number again."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        os.close(self._fd)

    def acquire(self, timeout_s: float) -> bool:
        with self._changed:
            if not self._waiting:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except BlockingIOError:
                    pass
            self._wanted, self._granted = True, False
            if self._thread is None:
                waiter = threading.Thread(target=self._wait, name="sqlite-write-turn", daemon=True)
                try:
                    waiter.start()
                except BaseException:  # no thread to be had (a task limit): the next writer tries again
                    self._wanted = False
                    raise
                self._thread = waiter
            self._changed.notify_all()
            if self._changed.wait_for(lambda: self._granted or self._closed, timeout_s) and self._granted:
                self._granted = False
                return True
            self._wanted = False  # the waiter gives the turn straight back when it comes
            return False

    def release(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _wait(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._wanted or self._closed)
                if self._closed:
                    return
                self._waiting = True
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except OSError as exc:  # the descriptor closed meanwhile, or the kernel refused (ENOLCK)
                with self._changed:  # a later writer starts a new waiter instead of waiting for this one
                    self._waiting, self._thread = False, None
                    self._changed.notify_all()
                    if not self._closed:
                        log.error("the SQLite write turn could not be waited for: %s", exc)
                return
            with self._changed:
                self._waiting = False
                if self._closed:  # its lock went with the descriptor
                    return
                if self._wanted:
                    self._wanted, self._granted = False, True
                    self._changed.notify_all()
                else:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)


class WriteGate:
    """SQLite has one writer at a time. Left to SQLite, a writer that finds the lock taken polls it with sleeps
    that grow to 100 ms (its busy handler): under many small concurrent commits (small uploads, the pipeline, the
    relay) much of the time went there. Writers of this process queue on a lock instead, and the processes of
    ``gga serve --workers N`` on an ``flock`` beside the database: either hands the turn over at once.

    Taken at BEGIN and given back after COMMIT or ROLLBACK (engine events: a session may begin on one thread and
    end on another, as FastAPI's dependencies do). A nested write transaction on the same thread waits for itself
    as it did before, and fails after ``timeout_s`` as SQLite's own lock did."""

    def __init__(self, database_path: str | None, timeout_s: float = 30):
        self._lock = threading.Lock()
        self._mutex = threading.Lock()  # guards _holder
        self._holder: object | None = None  # the DBAPI connection whose transaction holds the turn
        self._timeout_s = timeout_s
        self._processes = _ProcessTurn(f"{database_path}.write-lock") if database_path else None

    def enter(self) -> None:
        if not self._lock.acquire(timeout=self._timeout_s):
            raise sqlite3.OperationalError("database is locked (waited for the write turn)")
        try:  # the process's turn given back whatever happens, or every later writer here waits for it forever
            granted = self._processes is None or self._processes.acquire(self._timeout_s)
        except BaseException:
            self._lock.release()
            raise
        if not granted:
            self._lock.release()
            raise sqlite3.OperationalError("database is locked (waited for the write turn)")

    def leave(self) -> None:
        if self._processes is not None:
            self._processes.release()
        self._lock.release()

    def close(self) -> None:
        if self._processes is not None:
            self._processes.close()
            self._processes = None

    def install(self, engine: Engine) -> None:
        """BEGIN IMMEDIATE in turn; COMMIT or ROLLBACK said here, so the turn passes only once they are done. The
        turn belongs to a DBAPI connection: one the pool resets, invalidates or closes without those events (a
        session dropped unclosed, a connection invalidated mid-write) gives it back too, or every later writer of
        every worker would wait for it."""
        def begin(conn: Connection) -> None:
            self.enter()
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                self._holder = conn.connection.dbapi_connection
            except BaseException:
                self.leave()
                raise

        def end(conn: Connection, statement: str) -> None:
            try:
                dbapi = conn.connection.dbapi_connection
            except Exception:  # an invalidated connection: the pool's invalidate event gives the turn back
                return
            if dbapi is None or dbapi is not self._holder:
                return
            try:
                if dbapi.in_transaction:  # type: ignore[attr-defined]
                    conn.exec_driver_sql(statement)
            finally:
                self._give_back(dbapi)

        event.listen(engine, "begin", begin)
        event.listen(engine, "commit", lambda conn: end(conn, "COMMIT"))
        event.listen(engine, "rollback", lambda conn: end(conn, "ROLLBACK"))
        for pool_end in ("reset", "invalidate", "close"):
            event.listen(engine.pool, pool_end, lambda dbapi, *_: self._give_back(dbapi))

    def _give_back(self, dbapi: object) -> None:
        """Once per turn, whichever end comes first."""
        with self._mutex:
            if dbapi is None or dbapi is not self._holder:
                return
            self._holder = None
        self.leave()


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # reads that never write (logins, lookups) need not queue behind writers (SQLite WAL readers don't block)
        self.read_engine = make_engine(url, immediate=False) if url.startswith("sqlite") else self.engine
        self.readers = sessionmaker(self.read_engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends normally, rolled back otherwise.

        On SQLite a write transaction holds the one write lock from its start: never open one inside another on
        the same thread (it would wait for itself); do side effects between transactions.
        """
        with self.sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work (closing it ends its transaction; what it loaded stays readable)."""
        with self.readers() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
