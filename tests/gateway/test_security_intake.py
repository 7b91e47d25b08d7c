"""Issue 12, the intake's side: one upload per name, exactly the verified bytes delivered, a refused part does not
stop a resend, a blocked sender's GO is rejected, a wrong password costs the same for known and unknown users."""

import asyncio
import hashlib
import json
import os
import threading
import time

import asyncssh
import httpx
import pytest
from sqlalchemy import event, update

from gateway.core.reservation import Reservation
from gateway.core.transfer import UploadEnd
from kernel.errors import ErrorCode, GGAError
from store.models import Sender
from tests.gateway.harness import Submission, _connect, build, log_rows, put, wait_submission
from tests.gateway.test_webservice import assertion, bearer, token_call

FORGED = b"<?xml version='1.0'?><DmfAOriginal><Form><Identification>DMFA</Identification></Form><X/></DmfAOriginal>"


def delivered(harness, ticket: str) -> dict:
    folder = harness.gateway.spool.application_folder("DMFA", "T", ticket)
    manifest = json.loads((folder / "manifest.json").read_text())
    return {f["name"]: (hashlib.sha256((folder / f["name"]).read_bytes()).hexdigest(), f["sha256"])
            for f in manifest["files"]}


def test_a_second_open_of_a_name_being_uploaded_is_refused_and_the_signed_bytes_are_delivered(harness, kit):
    """The attack: two handles on one name, the signed one closed, FS and GO sent, then the second closed."""
    sub = build(kit)
    (folder, fi, signed), fs, go = sub.files

    async def attack() -> str:
        async with await _connect(harness.port, kit) as conn, conn.start_sftp_client() as sftp:
            first = await sftp.open(f"/{folder}/{fi}", "wb")
            await first.write(signed)
            with pytest.raises(asyncssh.SFTPError) as refused:
                await sftp.open(f"/{folder}/{fi}", "wb")
            await first.close()
            for f, name, data in (fs, go):
                async with sftp.open(f"/{f}/{name}", "wb") as handle:
                    await handle.write(data)
            return refused.value.reason

    reason = asyncio.run(attack())
    assert reason.startswith(str(ErrorCode.UPLOAD_IN_PROGRESS)), reason
    row = wait_submission(harness.services.db, go[1])
    assert row.status == "accepted", row.errors
    sha_on_disk, sha_in_manifest = delivered(harness, row.ticket)[fi]
    assert sha_on_disk == sha_in_manifest == hashlib.sha256(signed).hexdigest()
    refusals = [r for r in log_rows(harness.services.db, event="upload", name=fi) if r.result == "refused"]
    assert [r.error_code for r in refusals][:1] == [str(ErrorCode.UPLOAD_IN_PROGRESS)]


def test_a_finished_upload_is_never_replaced_by_a_later_one(harness, kit):
    """A file already kept under the name (another instance's finish): this upload's finish is refused."""
    g = harness.gateway
    session = g.auth.session(g.directory.by_number(kit.number), "SFTP", "SFTP", "127.0.0.1:1")
    (folder, fi, signed), _, _ = build(kit).files
    upload = g.transfers.open_upload(session, f"/{folder}/{fi}")
    upload.append(FORGED)
    (session.home / folder / fi).write_bytes(signed)  # kept meanwhile
    with pytest.raises(GGAError) as refused:
        g.transfers.settle(upload, UploadEnd.COMPLETED)
    assert refused.value.code == ErrorCode.FILE_ALREADY_RECEIVED
    assert (session.home / folder / fi).read_bytes() == signed
    assert [p for p in (session.home / ".partial").rglob("*") if not p.is_dir()] == []


def test_a_dead_instance_s_claim_is_taken_over_and_an_own_leftover_cleared_at_start(harness, kit):
    g = harness.gateway
    session = g.auth.session(g.directory.by_number(kit.number), "SFTP", "SFTP", "127.0.0.1:1")
    (folder, fi, signed), (_, fs, _), _ = build(kit).files
    partial = session.home / ".partial"
    dead = Reservation(partial, fi, "dead-instance", stale_after_s=600)
    os.close(dead.fd)
    os.utime(dead.data, (time.time() - 3600, time.time() - 3600))  # nobody wrote to it for an hour
    upload = g.transfers.open_upload(session, f"/{folder}/{fi}")
    upload.append(signed)
    g.transfers.settle(upload, UploadEnd.COMPLETED)
    assert (session.home / folder / fi).read_bytes() == signed
    mine = Reservation(partial, fs, g.settings.resolved_instance_id, stale_after_s=600)  # then a crash
    os.close(mine.fd)
    linked = build(kit, seq="00009").files[0][1]  # a crash after the link into INTEST, before the record
    unrecorded = Reservation(partial, linked, g.settings.resolved_instance_id, stale_after_s=600)
    os.close(unrecorded.fd)
    unrecorded.keep_as(session.home / folder / linked)
    alive = Reservation(partial, "FI.other", "live-instance", stale_after_s=600)
    os.close(alive.fd)
    (partial / "FI.orphan").write_bytes(b"")  # a claim whose data file is gone: nobody streams into it
    g.start()
    assert not (partial / "FI.orphan").exists()
    assert not mine.data.exists() and not (partial / fs).exists()
    assert not (session.home / folder / linked).exists() and not (partial / linked).exists()
    assert (session.home / folder / fi).read_bytes() == signed  # recorded: kept
    assert (partial / "FI.other").samefile(alive.data)  # another instance's upload: untouched
    for name in (fs, linked):  # logged as the upload's own row would be: whose, for which application
        assert [(r.error_code, r.sender_number, r.technical_user, r.application, r.environment, r.details["channel"])
                for r in log_rows(harness.services.db, event="upload", name=name)] == [
            ("UPLOAD_INCOMPLETE", kit.number, kit.technical_user, "DMFA", "T", "SFTP")]
    again = g.transfers.open_upload(session, f"/{folder}/{linked}")  # the sender may send it again
    again.discard()


def test_web_service_second_put_of_a_name_in_progress_answers_409(harness, kit):
    headers = bearer(harness, kit)
    (_, fi, signed), _, _ = build(kit).files
    url = f"{harness.http_url}/REST/batch/v1/T/files/{fi}"
    release, started = threading.Event(), threading.Event()
    answers: list[httpx.Response] = []

    def slow_body():
        yield signed[:10]
        started.set()
        release.wait(10)
        yield signed[10:]

    first = threading.Thread(target=lambda: answers.append(httpx.put(url, content=slow_body(), headers=headers,
                                                                      timeout=30)))
    first.start()
    try:
        assert started.wait(10)
        deadline = time.monotonic() + 10
        while not any((harness.home(kit, "WS") / ".partial").iterdir()):  # the first PUT holds the name
            assert time.monotonic() < deadline
            time.sleep(0.02)
        second = httpx.put(url, content=FORGED, headers=headers, timeout=30)
    finally:
        release.set()
        first.join(30)
    assert second.status_code == 409, second.text
    assert second.json()["error"]["code"] == "UPLOAD_IN_PROGRESS"
    assert answers[0].status_code == 201 and answers[0].json()["sha256"] == hashlib.sha256(signed).hexdigest()
    assert (harness.home(kit, "WS") / "INTEST" / fi).read_bytes() == signed


def test_a_refused_part_does_not_stop_a_complete_resend(harness, kit):
    sub = build(kit)
    _, fs_name = sub.files[1][:2]
    oversize = build(kit)
    oversize.files = [(sub.files[1][0], fs_name, b"-" * ((2 << 20) + 1))]
    assert any("FILE_TOO_LARGE" in e for e in put(harness.port, kit, oversize))
    assert put(harness.port, kit, sub) == []  # the same FI, the right FS under the same name, the GO
    row = wait_submission(harness.services.db, sub.go)
    assert row.status == "accepted", row.errors


def test_a_go_after_the_sender_is_blocked_is_rejected(harness, kit):
    """Between a block and the session watch ending its connections, what the sender still sends is not taken."""
    g = harness.gateway
    session = g.auth.session(g.directory.by_number(kit.number), "SFTP", "SFTP", "127.0.0.1:1")
    sub = build(kit)
    for folder, name, data in sub.files[:2]:
        upload = g.transfers.open_upload(session, f"/{folder}/{name}")
        upload.append(data)
        g.transfers.settle(upload, UploadEnd.COMPLETED)
    with harness.services.db.session() as s:
        s.execute(update(Sender).where(Sender.number == kit.number).values(status="blocked"))
    folder, go, _ = sub.files[2]
    g.transfers.settle(g.transfers.open_upload(session, f"/{folder}/{go}"), UploadEnd.COMPLETED)
    row = wait_submission(harness.services.db, go)
    assert row.status == "rejected" and [e["code"] for e in row.errors] == ["SENDER_BLOCKED"]


def test_a_wrong_password_costs_a_known_user_what_it_costs_an_unknown_one(harness, kit):
    """Same work on both paths: one password-hash check and the same database statements."""
    g = harness.gateway
    checks: list[str | None] = []
    verify = g.auth.passwords.verify

    def counted(stored, password):
        checks.append(stored)
        return verify(stored, password)

    statements: list[str] = []
    engine = harness.services.db.engine

    def seen(conn, cursor, statement, *args):
        statements.append(statement.split()[0])

    g.auth.passwords.verify = counted
    event.listen(engine, "before_cursor_execute", seen)
    try:
        work = []
        for user in (kit.technical_user, "EXPnobody99"):
            checks.clear()
            statements.clear()
            with pytest.raises(GGAError) as refused:
                g.auth.password(user, "Wrong-password-1", "SFTP", "SFTP", "127.0.0.1:2")
            assert refused.value.code == ErrorCode.LOGIN_FAILED
            work.append((len(checks), [s for s in statements if s.upper() == "SELECT"]))
    finally:
        event.remove(engine, "before_cursor_execute", seen)
        g.auth.passwords.verify = verify
    assert work[0] == work[1] and work[0][0] == 1, work


def test_signatures_still_match_the_bytes_on_disk(harness, kit):
    """Control for the first test: a normal submission's manifest and disk agree too."""
    sub = build(kit, seq="00002")
    assert put(harness.port, kit, sub) == []
    row = wait_submission(harness.services.db, sub.go)
    assert row.status == "accepted"
    assert all(a == b for a, b in delivered(harness, row.ticket).values())


def test_a_blocked_sender_s_web_service_token_and_requests_are_refused(harness, kit):
    headers = bearer(harness, kit)
    with harness.services.db.session() as s:
        s.execute(update(Sender).where(Sender.number == kit.number).values(technical_user_status="blocked"))
    (_, fi, signed), _, _ = build(kit).files
    answer = httpx.put(f"{harness.http_url}/REST/batch/v1/T/files/{fi}", content=signed, headers=headers, timeout=30)
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "SENDER_BLOCKED"

    refused = token_call(harness, assertion(harness, kit))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "SENDER_BLOCKED"


def test_a_go_over_its_limit_is_told_its_limit_in_bytes(harness, kit):
    """A GO or TD may hold at most 1 KiB: the refusal said "over 0 MiB (1024 bytes)"."""
    sub = build(kit, seq="00BIG")
    folder, go, _ = sub.files[-1]
    (error,) = put(harness.port, kit, Submission([(folder, go, b"x" * 1025)]))
    assert error.endswith(f"FILE_TOO_LARGE: {go}: over 1024 bytes."), error
