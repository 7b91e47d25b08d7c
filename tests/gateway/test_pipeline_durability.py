"""Nothing accepted is lost, nothing is processed twice: interruptions, restarts, crashes, cancellations."""

import asyncio
import io
import time

import paramiko
from sqlalchemy import select

from store.models import Submission, TransferEvent
from tests.gateway.harness import GatewayHarness, _connect, build, error_ids, put, wait_submission


def log_rows(db, event):
    with db.session() as session:
        return [(e.result, e.error_code, e.file_name) for e in session.scalars(
            select(TransferEvent).where(TransferEvent.event == event).order_by(TransferEvent.id))]


def wait_for(predicate, timeout=10):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_dropped_connection_keeps_no_half_file(harness, kit, db):
    name = f"FI.DMFA.{kit.number}.20261127.00001.T.1.1"

    async def drop_mid_upload():
        conn = await _connect(harness.port, kit)
        sftp = await conn.start_sftp_client()
        f = await sftp.open(f"/INTEST/{name}", "wb")
        await f.write(b"x" * 200_000)
        conn.abort()  # the payroll server loses its network

    asyncio.run(drop_mid_upload())
    wait_for(lambda: ("incomplete", "UPLOAD_INCOMPLETE", name) in log_rows(db, "upload"))
    assert list((harness.home(kit) / "INTEST").iterdir()) == []
    assert [p for p in (harness.home(kit) / ".partial").rglob("*") if not p.is_dir()] == []


def test_restart_between_parts_and_go_gives_exactly_one_acrf(services, harness, kit):
    sub = build(kit, parts=2)
    go = sub.files.pop()
    assert put(harness.port, kit, sub) == []
    harness.stop()
    restarted = GatewayHarness(services).start()
    try:
        sub.files = [go]
        assert put(restarted.port, kit, sub) == []
        acrf = restarted.wait_acrf(kit)
        assert acrf.findtext("ResultCode") == "1" and len(acrf.find("Files")) == 2
        wait_submission(services.db, sub.go)
        assert len(restarted.acrfs(kit)) == 1
    finally:
        restarted.stop()
        harness.start()  # the fixture stops it again


def test_a_stop_before_processing_is_taken_up_at_start(services, harness, kit, db):
    harness.gateway.pipeline.schedule = lambda _id: None  # the process dies right after recording the GO
    sub = build(kit)
    put(harness.port, kit, sub)
    with db.session() as session:
        assert session.scalar(select(Submission.status)) == "received"
    harness.stop()
    harness.start()
    assert harness.wait_acrf(kit).findtext("ResultCode") == "1"
    wait_submission(db, sub.go)
    assert len(harness.acrfs(kit)) == 1


def test_a_crash_after_the_decision_delivers_the_same_single_acrf(services, harness, kit, db):
    harness.gateway.pipeline.schedule = lambda _id: None
    sub = build(kit)
    put(harness.port, kit, sub)
    with db.session() as session:
        submission_id = session.scalar(select(Submission.id))
    assert harness.gateway.pipeline._decide(submission_id) is not None  # decided, then the process dies before
    # any side effect
    harness.stop()
    harness.start()
    acrf = harness.wait_acrf(kit)
    wait_submission(db, sub.go)  # the ACRF is delivered before the status is committed
    with db.session() as session:
        row = session.get(Submission, submission_id)
        assert row.status == "accepted" and acrf.findtext("ReferenceNbr") == row.ticket
    assert harness.gateway.pipeline.recover() == 0
    assert len(harness.acrfs(kit)) == 1


def test_td_cancels_a_submission_not_yet_processed(harness, kit, db):
    sub = build(kit)
    go = sub.files.pop()
    put(harness.port, kit, sub)
    td = build(kit)
    td.files = [("INTEST", go[1].replace("GO.", "TD.", 1), b"")]
    put(harness.port, kit, td)
    wait_for(lambda: any(r[0] == "ok" for r in log_rows(db, "cancel")))
    assert list((harness.home(kit) / "INTEST").iterdir()) == []
    sub.files = [go]
    put(harness.port, kit, sub)
    assert error_ids(harness.wait_acrf(kit)) == ["PARTS_INCOMPLETE"]


def test_acknowledgement_goes_to_the_preferred_channel(harness, kit, db):
    sub = build(kit, app="DIMN", content=b"DIMONA flat file")
    put(harness.port, kit, sub)  # DIMN prefers FTP
    acrf = harness.wait_acrf(kit, channel="FTP")
    assert acrf.findtext("ResultCode") == "1"
    wait_submission(db, sub.go)
    assert harness.acrfs(kit, channel="SFTP") == []


def test_paramiko_client_with_password(harness, kit):
    transport = paramiko.Transport(("127.0.0.1", harness.port))
    transport.connect(username=kit.technical_user, password=kit.password)
    sftp = paramiko.SFTPClient.from_transport(transport)
    try:
        for folder, name, data in build(kit).files:
            sftp.putfo(io.BytesIO(data), f"/{folder}/{name}", confirm=False)
    finally:
        sftp.close()
        transport.close()
    assert harness.wait_acrf(kit).findtext("ResultCode") == "1"


def test_parts_without_a_go_get_acrf_130_after_the_wait(harness, kit, db):
    from datetime import timedelta

    sub = build(kit, parts=2)
    go = sub.files.pop()  # the GO never comes
    put(harness.port, kit, sub)
    assert harness.gateway.pipeline.sweep_orphans(timedelta(hours=1)) == 0  # not waited long enough yet
    assert harness.gateway.pipeline.sweep_orphans(timedelta(seconds=-1)) == 1
    acrf = harness.wait_acrf(kit)
    assert acrf.findtext("ResultCode") == "0" and error_ids(acrf) == ["ACRF-130", "ACRF-130"]
    wait_submission(db, go[1])  # the parts are moved after the ACRF is delivered
    assert list((harness.home(kit) / "INTEST").iterdir()) == []
    assert harness.gateway.pipeline.sweep_orphans(timedelta(seconds=-1)) == 0  # answered once


def test_a_late_second_decision_leaves_the_first_one(harness, kit, db):
    """A worker whose decision raced (and rolled back) decides again only what is still undecided: another
    worker's committed decision, and its ACRF name, stand."""
    harness.gateway.pipeline.schedule = lambda _id: None
    put(harness.port, kit, build(kit))
    with db.session() as session:
        submission_id = session.scalar(select(Submission.id))
    pipeline = harness.gateway.pipeline
    assert pipeline._decide(submission_id) is not None
    with db.session() as session:
        first = session.get(Submission, submission_id).acrf_name
    assert pipeline._decide(submission_id) is None
    with db.session() as session:
        assert session.get(Submission, submission_id).acrf_name == first
