"""Statements on the DBAPI cursor write and read what SQLAlchemy's own execution would (SQLite and PostgreSQL)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from store.models import OutboxEvent, TransferEvent, UsedAssertion
from store.rawsql import RawInsert, RawStatement

EVENTS = TransferEvent.__table__
OUTBOX = OutboxEvent.__table__


def test_an_insert_fills_python_defaults_converts_json_and_returns_its_id(db):
    before = datetime.now(UTC)
    with db.engine.begin() as conn:
        first = RawInsert(EVENTS, returning="id").run(conn, {"event": "upload", "result": "ok", "protocol": "SFTP",
                                                              "details": {"errors": ["ACRF-108"], "n": 1}})
        RawInsert(EVENTS).run_many(conn, [{"event": "login", "result": "ok", "protocol": "FTP", "file_name": name}
                                          for name in ("a", "b")])
    with db.read() as session:
        rows = session.scalars(select(TransferEvent).order_by(TransferEvent.id)).all()
    assert [(r.id == first, r.event, r.file_name) for r in rows] == [(True, "upload", None), (False, "login", "a"),
                                                                     (False, "login", "b")]
    assert rows[0].details == {"errors": ["ACRF-108"], "n": 1}
    assert rows[0].at.tzinfo is not None and before <= rows[0].at <= datetime.now(UTC)  # the column's default


def test_an_update_binds_its_literals_and_returns_typed_rows(db):
    created = datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)
    with db.engine.begin() as conn:
        RawInsert(OUTBOX).run_many(conn, [{"routing_key": "k", "message_id": m, "body": {"m": m},
                                           "created_at": created} for m in ("one", "two")])
    lease = RawStatement(update(OUTBOX).where(OUTBOX.c.message_id == bindparam("mid"),
                                              OUTBOX.c.published_at.is_(None), OUTBOX.c.attempts == 0)
                         .values(attempts=OUTBOX.c.attempts + 1, lease_until=bindparam("until"))
                         .returning(OUTBOX.c.body, OUTBOX.c.created_at, OUTBOX.c.lease_until),
                         (OUTBOX.c.body, OUTBOX.c.created_at, OUTBOX.c.lease_until))
    until = created + timedelta(minutes=1)
    with db.engine.begin() as conn:
        assert lease.rows(conn, {"mid": "one", "until": until}) == [
            {"body": {"m": "one"}, "created_at": created, "lease_until": until}]
        assert lease.rows(conn, {"mid": "one", "until": until}) == []  # attempts is 1 now: the literal 0 held
        assert RawStatement(update(OUTBOX).where(OUTBOX.c.message_id == bindparam("mid")).values(
            last_error=bindparam("error"))).run(conn, {"mid": "two", "error": "x"}) == 1


def test_a_constraint_broken_on_the_cursor_is_sqlalchemys_integrity_error(db):
    row = {"jti": "same", "expires_at": datetime.now(UTC)}
    with db.engine.begin() as conn:
        RawInsert(UsedAssertion.__table__).run(conn, row)
    with pytest.raises(IntegrityError), db.engine.begin() as conn:  # as the pipeline's race handling expects
        RawInsert(UsedAssertion.__table__).run(conn, row)
    with db.read() as session:
        assert session.scalars(select(UsedAssertion.jti)).all() == ["same"]


def test_a_lost_server_connection_is_invalidated_with_the_pools_older_ones(migrated):
    """A disconnect met on the cursor went unseen by the pool: every connection used in the last second then
    failed one more request after a server restart (SQLAlchemy's own execution invalidates the pool)."""
    from sqlalchemy import text

    from store.database import Database
    if not migrated.url.startswith("postgresql"):
        pytest.skip("SQLite has no server connections")
    db = Database(migrated.url)
    try:
        with db.engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with db.engine.connect() as killer:
                killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(DBAPIError) as lost:
                RawInsert(UsedAssertion.__table__).run(conn, {"jti": "x", "expires_at": datetime.now(UTC)})
            assert lost.value.connection_invalidated
        assert db.engine.pool._invalidate_time > 0  # older pooled connections are replaced at their checkout
    finally:
        db.dispose()


def test_none_binds_as_sqlalchemy_binds_it_and_onupdate_tables_are_refused(db):
    """A JSON None was written as SQL NULL where SQLAlchemy writes JSON null; an UPDATE of a table with an onupdate
    column would have left that column as it was (SQLAlchemy's execution fills it)."""
    from sqlalchemy import Column, Integer, MetaData, String, Table, insert, text

    with db.engine.begin() as conn:
        conn.execute(insert(EVENTS), {"event": "sa", "result": "ok", "protocol": "-", "details": None})
        RawInsert(EVENTS).run(conn, {"event": "raw", "result": "ok", "protocol": "-", "details": None})
        nulls = dict(conn.execute(text("SELECT event, details IS NULL FROM transfer_log")).all())
    assert nulls["raw"] == nulls["sa"]
    stamped = Table("stamped", MetaData(), Column("id", Integer, primary_key=True),
                    Column("at", String, onupdate="now"))
    with pytest.raises(NotImplementedError, match="onupdate"), db.engine.connect() as conn:
        RawStatement(update(stamped).values(id=bindparam("new_id"))).run(conn, {"new_id": 1})
