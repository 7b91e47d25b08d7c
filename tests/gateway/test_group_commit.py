"""Uploads ending together are recorded in one transaction, and each is answered only after that commit: all
recorded when it commits, none acknowledged (and none kept) when it fails."""

import threading
import time

import pytest
from sqlalchemy import Connection, func, insert, select

from gateway.core.groupcommit import GroupCommit, _Item, insert_row
from gateway.core.session import GatewaySession
from gateway.core.transfer import UploadEnd
from kernel.clock import utcnow
from kernel.errors import ErrorCode, GGAError
from store.models import ReceivedFile, TransferEvent
from store.rawsql import RawInsert
from tests.gateway.harness import build, log_rows, today


def held_writer(records: GroupCommit, monkeypatch, total: int) -> list[int]:
    """The writer's first batch waits until all ``total`` records are in it or queued behind it (as if its commit
    were slow); returns the batch sizes, noted as they commit."""
    sizes: list[int] = []
    real = records._commit

    def commit(batch):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + 10
        while not sizes and len(batch) + records._queue.qsize() < total and time.monotonic() < deadline:
            time.sleep(0.005)
        sizes.append(len(batch))
        real(batch)

    monkeypatch.setattr(records, "_commit", commit)
    return sizes


def upload_all(harness, kit, count: int) -> tuple[list[str], list[BaseException | None]]:
    """``count`` 1 KiB uploads settled at once from as many threads: their names and what each settle raised."""
    gateway = harness.gateway
    session = GatewaySession(gateway.directory.by_number(kit.number), "SFTP", "SFTP", "127.0.0.1",
                             harness.home(kit))
    names = [f"FI.DMFA.{kit.number}.{today()}.{n:05d}.T.1.1" for n in range(1, count + 1)]
    outcomes: list[BaseException | None] = [None] * count

    def one(i: int) -> None:
        upload = gateway.transfers.open_upload(session, f"/INTEST/{names[i]}")
        upload.write(0, b"x" * 1024)
        try:
            gateway.transfers.settle(upload, UploadEnd.COMPLETED)
        except BaseException as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return names, outcomes


def recorded(db) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(ReceivedFile)) or 0


def test_uploads_ending_together_are_recorded_in_one_commit(harness, kit, db, monkeypatch):
    sizes = held_writer(harness.gateway.pipeline.records, monkeypatch, total=6)
    names, outcomes = upload_all(harness, kit, 6)
    assert outcomes == [None] * 6
    assert sum(sizes) == 6 and len(sizes) <= 2  # those that ended while a commit was under way went together
    assert recorded(db) == 6
    assert sorted(p.name for p in (harness.home(kit) / "INTEST").iterdir()) == sorted(names)


def test_a_failed_group_commit_acknowledges_none_of_its_uploads(harness, kit, db, monkeypatch):
    sizes = held_writer(harness.gateway.pipeline.records, monkeypatch, total=6)

    def refuse(self):  # type: ignore[no-untyped-def]
        raise OSError("disk gone")

    with monkeypatch.context() as patched:  # every commit fails (and is rolled back) while the uploads end
        patched.setattr(Connection, "_commit_impl", refuse)
        _, outcomes = upload_all(harness, kit, 6)
    assert sum(sizes) == 6 and len(sizes) <= 2
    assert all(isinstance(o, GGAError) and o.code == ErrorCode.UPLOAD_INCOMPLETE for o in outcomes), outcomes
    assert recorded(db) == 0
    assert list((harness.home(kit) / "INTEST").iterdir()) == []  # not recorded, so not kept


def log_row(text: str):  # type: ignore[no-untyped-def]
    def work(session):  # type: ignore[no-untyped-def]
        session.execute(insert(TransferEvent), {"at": utcnow(), "event": "test", "result": "ok", "protocol": "-",
                                                "file_name": text})
        if text == "bad":
            raise ValueError("a record that cannot be written")
        return text
    return work


def test_a_failing_record_fails_only_its_own_caller(db):
    records = GroupCommit(db, "test-records")
    batch = [_Item(log_row(text), None) for text in ("a", "bad", "b")]
    records._commit(batch)  # the writer's step, on one batch
    assert [item.future.result() for item in (batch[0], batch[2])] == ["a", "b"]
    with pytest.raises(ValueError):
        batch[1].future.result()
    with db.session() as session:
        logged = sorted(session.scalars(select(TransferEvent.file_name).where(TransferEvent.event == "test")))
    assert logged == ["a", "b"]  # the batch rolled back, then each alone: the bad one kept nothing


def test_after_close_a_record_commits_on_its_callers_thread(db):
    records = GroupCommit(db, "test-records")
    records.close()
    assert records.run(log_row("late")) == "late"
    with pytest.raises(ValueError):
        records.run(log_row("bad"))


def test_a_file_that_cannot_be_made_durable_fails_only_its_own_upload(db, tmp_path):
    """``submit``'s ``prepare`` (the fsync and link of a small upload) runs on the writer before the batch commits:
    one that fails is left out of the batch, which commits the others."""
    records = GroupCommit(db, "test-records")
    prepared: list[str] = []

    def prepare(text: str):  # type: ignore[no-untyped-def]
        def run() -> None:
            if text == "bad":
                raise OSError("disk gone")
            prepared.append(text)
        return run
    batch = [_Item(log_row(text), tmp_path, prepare(text)) for text in ("a", "bad", "b")]
    records._commit(batch)
    assert [item.future.result() for item in (batch[0], batch[2])] == ["a", "b"] and prepared == ["a", "b"]
    with pytest.raises(OSError, match="disk gone"):
        batch[1].future.result()
    with db.session() as session:
        assert sorted(session.scalars(select(TransferEvent.file_name).where(TransferEvent.event == "test"))) == \
            ["a", "b"]
    late = records.submit(log_row("late"), tmp_path, prepare("late"))  # the writer thread itself, started on demand
    assert late.result(timeout=10) == "late" and prepared[-1] == "late"
    records.close()


def test_a_folder_that_cannot_be_synced_fails_only_the_records_linked_into_it(db, tmp_path):
    """A submission's claim (no folder) or another folder's upload shares the batch: a folder's fsync error is
    that folder's records' alone."""
    records = GroupCommit(db, "test-records")
    gone = tmp_path / "removed"
    batch = [_Item(log_row("a"), tmp_path), _Item(log_row("lost"), gone), _Item(log_row("claim"), None)]
    records._commit(batch)
    assert [batch[0].future.result(), batch[2].future.result()] == ["a", "claim"]
    with pytest.raises(FileNotFoundError):
        batch[1].future.result()
    with db.session() as session:
        assert sorted(session.scalars(select(TransferEvent.file_name).where(TransferEvent.event == "test"))) == \
            ["a", "claim"]


LOG_ROW = RawInsert(TransferEvent.__table__)


def queued_row(text: str):  # type: ignore[no-untyped-def]
    """A record whose transfer-log row goes as an upload's does (on PostgreSQL: queued for the batch's end)."""
    def work(session):  # type: ignore[no-untyped-def]
        insert_row(session, LOG_ROW, {"at": utcnow(), "event": "test", "result": "ok",
                                                    "protocol": "-", "file_name": text})
        return text
    return work


def logged_tests(db) -> list[str]:  # type: ignore[no-untyped-def]
    with db.session() as session:
        return sorted(session.scalars(select(TransferEvent.file_name).where(TransferEvent.event == "test")))


def test_rows_queued_by_a_batch_are_written_with_it_and_a_bad_one_fails_only_its_record(db):
    records = GroupCommit(db, "test-records")
    batch = [_Item(queued_row(text), None) for text in ("a", "b", "c")]
    records._commit(batch)
    assert [item.future.result() for item in batch] == ["a", "b", "c"]
    assert logged_tests(db) == ["a", "b", "c"]
    with db.engine.begin() as conn:  # outside a group commit: written at once, as its caller's statement
        queued_row("now")(conn)
        assert conn.execute(select(TransferEvent.id).where(TransferEvent.file_name == "now")).first() is not None

    def null_event(session):  # type: ignore[no-untyped-def]
        insert_row(session, LOG_ROW, {"at": utcnow(), "event": None, "result": "ok", "protocol": "-",
                                                    "file_name": "bad"})  # NOT NULL: refused (PostgreSQL: at the end)
        return "bad"
    batch = [_Item(queued_row("d"), None), _Item(null_event, None), _Item(queued_row("e"), None)]
    records._commit(batch)
    assert [batch[0].future.result(), batch[2].future.result()] == ["d", "e"]
    with pytest.raises(Exception, match=r"(?i)null"):
        batch[1].future.result()
    assert logged_tests(db) == ["a", "b", "c", "d", "e", "now"]


def test_a_part_and_its_go_recorded_in_one_batch_make_one_whole_submission(harness, kit, db):
    """The last part and the GO end together (two sessions): on PostgreSQL the batch queues the part's row for its
    end while the GO's is written at once (its id is needed), so the part got the higher id, and a submission takes
    the parts below its GO's: it was refused for a missing signature. The GO now comes after them."""
    gateway = harness.gateway
    session = GatewaySession(gateway.directory.by_number(kit.number), "SFTP", "SFTP", "127.0.0.1",
                             harness.home(kit))
    (folder, fi, fi_bytes), (_, fs, fs_bytes), (_, go, go_bytes) = build(kit).files
    first = gateway.transfers.open_upload(session, f"/{folder}/{fi}")
    first.write(0, fi_bytes)
    gateway.transfers.settle(first, UploadEnd.COMPLETED)
    release = threading.Event()
    records = gateway.pipeline.records
    holding = records.submit(lambda _session: release.wait(10))  # the writer busy: the next two queue together
    ends = []
    for name, data in ((fs, fs_bytes), (go, go_bytes)):
        upload = gateway.transfers.open_upload(session, f"/{folder}/{name}")
        upload.write(0, data)
        ends.append(gateway.transfers.settle_soon(upload, UploadEnd.COMPLETED))
        deadline = time.monotonic() + 10
        while records._queue.qsize() < len(ends) and time.monotonic() < deadline:
            time.sleep(0.005)
    release.set()
    holding.result(10)
    for end in ends:
        end.result(10)
    assert [(r.result, r.error_code) for r in log_rows(db, event="submission", name=go, count=1)] == [
        ("accepted", None)]


def test_the_writers_connection_kept_while_idle_is_pinged_and_replaced_when_the_server_dropped_it(db):
    """The writer keeps its connection between batches; one idle past the ping window was used unpinged, and the
    first batch after a PostgreSQL restart failed (its uploads refused)."""
    from sqlalchemy import text
    if not db.url.startswith("postgresql"):
        pytest.skip("SQLite has no server connections")
    records = GroupCommit(db, "test-records")
    try:
        assert records.run(queued_row("first")) == "first"
        held = records._held
        assert held is not None
        pid = held.execute(text("SELECT pg_backend_pid()")).scalar_one()
        held.rollback()
        with db.engine.connect() as killer:
            killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        records._held_since -= 5  # idle past the window
        assert records.run(queued_row("after the restart")) == "after the restart"
        assert logged_tests(db) == ["after the restart", "first"]
    finally:
        records.close()
