"""SQLite writers take turns (store/database.py ``WriteGate``): many threads and several processes writing at once
all commit, a unit of work may begin on one thread and end on another (FastAPI's dependencies do), and a nested
write on the same thread still fails instead of hanging."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading

import pytest
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.exc import OperationalError

from store.database import Database, WriteGate
from store.models import TransferEvent


@pytest.fixture
def sqlite_db(db: Database) -> Database:
    if not db.url.startswith("sqlite"):
        pytest.skip("SQLite's write turns")
    return db


def count(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(TransferEvent)) or 0


def write_rows(url: str, label: str, rows: int) -> None:
    database = Database(url)
    try:
        for n in range(rows):
            with database.session() as session:
                session.add(TransferEvent(event="upload", result="ok", protocol="SFTP", file_name=f"{label}-{n}"))
    finally:
        database.dispose()


def test_threads_writing_at_once_all_commit(sqlite_db):
    errors: list[BaseException] = []

    def writer(label: str) -> None:
        try:
            write_rows(sqlite_db.url, label, 15)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"t{i}",)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == [] and count(sqlite_db) == 12 * 15


def test_processes_writing_at_once_all_commit(sqlite_db):
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=write_rows, args=(sqlite_db.url, f"p{i}", 30)) for i in range(3)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(120)
    assert [p.exitcode for p in processes] == [0, 0, 0]
    assert count(sqlite_db) == 3 * 30


def test_a_unit_of_work_may_end_on_another_thread(sqlite_db):
    unit = sqlite_db.session()
    session = unit.__enter__()  # as FastAPI enters a dependency on one worker thread...
    session.add(TransferEvent(event="upload", result="ok", protocol="SFTP", file_name="across"))
    session.flush()
    ended = threading.Thread(target=unit.__exit__, args=(None, None, None))  # ...and leaves it on another
    ended.start()
    ended.join(30)
    write_rows(sqlite_db.url, "next", 1)  # the turn was given back: the next writer gets in
    assert count(sqlite_db) == 2


def test_a_nested_write_on_one_thread_fails_instead_of_hanging(sqlite_db):
    gate = WriteGate(None, timeout_s=0.5)
    engine = create_engine(sqlite_db.url, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", lambda conn, _: setattr(conn, "isolation_level", None))
    gate.install(engine)
    try:
        with engine.connect() as outer, outer.begin():
            outer.exec_driver_sql("SELECT 1")
            with engine.connect() as inner, pytest.raises((OperationalError, sqlite3.OperationalError), match="locked"):
                inner.begin()
    finally:
        engine.dispose()


def test_a_session_dropped_unclosed_gives_its_turn_back(sqlite_db):
    import gc

    dropped = sqlite_db.sessions()  # a unit of work someone forgot to end: the pool resets its connection
    dropped.add(TransferEvent(event="upload", result="ok", protocol="SFTP", file_name="forgotten"))
    dropped.flush()
    del dropped
    gc.collect()
    write_rows(sqlite_db.url, "next", 1)  # in another engine, so only the flock stood in the way
    with sqlite_db.session() as session:  # and this engine's own turn is free
        session.add(TransferEvent(event="upload", result="ok", protocol="SFTP", file_name="same-engine"))
    assert count(sqlite_db) == 2


def test_an_invalidated_connection_gives_its_turn_back(sqlite_db):
    cut = sqlite_db.sessions()
    cut.add(TransferEvent(event="upload", result="ok", protocol="SFTP", file_name="cut"))
    cut.flush()
    cut.connection().invalidate()  # as an interrupted statement or a closed database does
    cut.close()
    with sqlite_db.session() as session:
        session.add(TransferEvent(event="upload", result="ok", protocol="SFTP", file_name="after"))
    assert count(sqlite_db) == 1  # the cut write went with its connection; the next one got in


def test_a_writer_behind_another_process_s_turn_gets_in_when_it_ends_and_gives_up_behind_a_stuck_one(tmp_path):
    """Another process's turn is an flock on its own descriptor: here the test's. The waiting writer is woken when
    it ends; behind a holder that never ends it gives up after its timeout, and the turn it was still waiting for is
    given straight back when it comes (the next writer gets in)."""
    import fcntl
    import os

    database = tmp_path / "gga.db"
    gate = WriteGate(str(database), timeout_s=0.5)
    other = os.open(f"{database}.write-lock", os.O_RDWR)
    try:
        fcntl.flock(other, fcntl.LOCK_EX)
        with pytest.raises(sqlite3.OperationalError, match="waited for the write turn"):
            gate.enter()  # stuck holder: gives up
        entered = threading.Event()
        writer = threading.Thread(target=lambda: (gate.enter(), entered.set()))
        writer.start()
        assert not entered.wait(0.2)  # still held by the other process
        fcntl.flock(other, fcntl.LOCK_UN)  # ...which ends its turn
        writer.join(5)
        assert entered.is_set()
        with pytest.raises(BlockingIOError):  # the turn is this writer's now
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        gate.leave()
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # and given back
        fcntl.flock(other, fcntl.LOCK_UN)
    finally:
        os.close(other)
        gate.close()


def test_a_writer_that_cannot_start_the_waiting_thread_leaves_the_turn_free_for_the_next(tmp_path, monkeypatch):
    """No thread to be had (a task limit reached) while another process holds the turn: that writer fails, and
    nothing stays held in this process. The in-process lock stayed taken and the waiter was never started again:
    every later write of the worker failed after its timeout, for good."""
    import fcntl
    import os

    database = tmp_path / "gga.db"
    gate = WriteGate(str(database), timeout_s=5)
    other = os.open(f"{database}.write-lock", os.O_RDWR)
    try:
        fcntl.flock(other, fcntl.LOCK_EX)
        with monkeypatch.context() as patched:
            patched.setattr(threading.Thread, "start", lambda self: (_ for _ in ()).throw(RuntimeError("no thread")))
            with pytest.raises(RuntimeError, match="no thread"):
                gate.enter()
        threading.Timer(0.2, fcntl.flock, (other, fcntl.LOCK_UN)).start()  # the other process ends its turn
        gate.enter()  # waits for it (a waiter started this time), then gets in
        with pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        gate.leave()
    finally:
        os.close(other)
        gate.close()
