"""Engine, sessions and migrations. SQLite is the embedded default, PostgreSQL (psycopg 3) the production one."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_folder(url: str) -> None:
    """SQLite makes the file, not its folder: a fresh data folder must exist first."""
    path = url.split("///", 1)[-1]
    if url.startswith("sqlite") and path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str, *, immediate: bool = True) -> Engine:
    """``immediate`` (SQLite): every transaction takes the write lock at BEGIN, so two racing writers queue up
    (and the loser meets the unique index: a 409) instead of failing with "database is locked" mid-way."""
    _sqlite_folder(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql(begin))
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


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
