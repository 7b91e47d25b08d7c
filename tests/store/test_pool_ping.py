"""PostgreSQL: a pooled connection is pinged before use only after it sat idle; a dead one is replaced unseen."""

import pytest
from sqlalchemy import text

from store import database
from store.database import Database


@pytest.fixture
def pg(migrated: Database):
    if not migrated.url.startswith("postgresql"):
        pytest.skip("SQLite has no server connections to ping")
    db = Database(migrated.url)  # a pool of its own
    yield db
    db.dispose()


def counted_pings(db: Database, monkeypatch) -> list[int]:
    pings: list[int] = []
    real = db.engine.dialect.do_ping

    def ping(dbapi):  # type: ignore[no-untyped-def]
        pings.append(1)
        return real(dbapi)

    monkeypatch.setattr(db.engine.dialect, "do_ping", ping)
    return pings


def test_a_connection_used_a_moment_ago_is_not_pinged(pg, monkeypatch):
    pings = counted_pings(pg, monkeypatch)
    for _ in range(5):
        with pg.session() as session:
            session.execute(text("SELECT 1"))
    assert len(pings) == 1  # the new connection's first checkout only
    monkeypatch.setattr(database, "PING_AFTER_IDLE_S", 0.0)  # now every checkout counts as after a pause
    with pg.session() as session:
        session.execute(text("SELECT 1"))
    assert len(pings) == 2


def test_a_connection_the_server_dropped_is_replaced_before_use(pg, migrated, monkeypatch):
    with pg.session() as session:
        pid = session.scalar(text("SELECT pg_backend_pid()"))
    with migrated.engine.begin() as admin:  # the server ends it while it idles in the pool
        assert admin.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    monkeypatch.setattr(database, "PING_AFTER_IDLE_S", 0.0)
    with pg.session() as session:
        assert session.scalar(text("SELECT pg_backend_pid()")) != pid
