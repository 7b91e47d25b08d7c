"""Races between a submission's decision, worked out on a read, and its write: a TD, another submission or another
upload acts exactly in between (the real methods wrapped, no sleeps), and the sender still gets a consistent
answer: the ACRF, where the files end up and the transfer log agree."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

import gateway.pipeline as pipeline_module
from gateway.core.reservation import Reservation
from gateway.core.transfer import UploadEnd
from gateway.naming import parse
from kernel.clock import utcnow
from kernel.errors import ErrorCode, GGAError
from store.models import Submission
from tests.gateway.harness import Submission as Files
from tests.gateway.harness import build, error_ids
from tests.gateway.test_pipeline_decisions import Intake, applications, intake, rejected  # noqa: F401 (fixture)


def cancelled(intake: Intake) -> Path:  # noqa: F811
    return intake.gateway.spool.root / "cancelled" / intake.kit.number


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def between_read_and_write(intake: Intake, monkeypatch, act: Callable[[], None]) -> list:  # noqa: F811
    """``act`` runs once, right after the first decision worked out on a read (and only if there was one: the
    race is real), before that decision is written. Returns the plans read, to assert the race happened."""
    plan_on_read = intake.pipeline._plan
    plans: list = []

    def racing(submission_id: int, *reading):  # type: ignore[no-untyped-def]
        plan = plan_on_read(submission_id, *reading)
        if not plans:
            plans.append(plan)
            if plan is not None:
                act()
        return plan

    monkeypatch.setattr(intake.pipeline, "_plan", racing)
    return plans


def test_a_td_between_the_read_decision_and_its_write_keeps_the_part_out(intake, monkeypatch):  # noqa: F811
    files = build(intake.kit)
    (_, fi, _), (_, fs, _), (_, go, _) = files.files
    td = "TD" + go[2:]
    submission_id = intake.send(files)
    plans = between_read_and_write(intake, monkeypatch, lambda: intake.upload("INTEST", td, b""))
    intake.pipeline.process(submission_id)

    (plan,) = plans
    assert plan is not None and plan.decision["accepted_base"] is not None  # the read had decided to accept
    sub = intake.row(submission_id)
    assert sub.status == "rejected", sub.errors
    assert {e["code"] for e in sub.errors} == {"PARTS_INCOMPLETE"}
    _, _, acrf = intake.only_acrf()
    assert acrf.findtext("ResultCode") == "0" and acrf.findtext("ReferenceNbr") == sub.ticket
    assert fi not in [f.get("name") for f in acrf.find("Files")]  # the ACRF does not claim the cancelled part
    # the cancelled parts are in the cancelled folder, nothing reached the application
    assert {fi, fs, td} <= set(listing(cancelled(intake)))
    assert not applications(intake).exists()
    assert {fi, fs}.isdisjoint(listing(rejected(intake) / sub.ticket))
    assert intake.waiting() == []
    assert [(r.status, r.submission_id) for r in intake.files_of(name=fi)] == [("cancelled", None)]
    (logged,) = intake.log("cancel")
    assert logged.result == "ok" and {fi, fs} <= set(logged.details["cancelled"])
    (closed,) = intake.log("submission")
    assert (closed.result, closed.error_code) == ("rejected", "PARTS_INCOMPLETE")


def test_a_decision_written_while_a_td_moves_the_parts_waits_for_it_and_is_made_again(intake, monkeypatch):  # noqa: F811
    """The TD has read the parts and is moving their files (its rows not yet written) when a worker writes the
    decision it worked out before: on PostgreSQL nothing held those rows, so the submission was accepted with
    parts the TD took away (the application got a folder with only its manifest, the data went to cancelled/)."""
    files = build(intake.kit)
    (_, fi, _), (_, fs, _), (_, go, _) = files.files
    td = "TD" + go[2:]
    submission_id = intake.send(files)
    plan = dict(intake.pipeline._plans([submission_id]))[submission_id]  # a worker's decision on a read: accept
    assert plan is not None and plan.decision["accepted_base"] is not None
    monkeypatch.setattr(intake.pipeline, "_plan", lambda _sid, *_reading: plan)
    move_all = pipeline_module.move_all
    worker: list[threading.Thread] = []

    def moving(sources, target):  # type: ignore[no-untyped-def]
        if not worker:  # the TD's moves: the worker writes its decision now, on its own thread
            worker.append(threading.Thread(target=intake.pipeline.process, args=(submission_id,)))
            worker[0].start()
            worker[0].join(2)  # bounded: it waits for the TD's rows (or its write turn) from here on
        return move_all(sources, target)

    monkeypatch.setattr(pipeline_module, "move_all", moving)
    intake.upload("INTEST", td, b"")
    worker[0].join(30)
    assert not worker[0].is_alive()
    sub = intake.row(submission_id)
    assert (sub.status, {e["code"] for e in sub.errors}) == ("rejected", {"PARTS_INCOMPLETE"})
    assert not applications(intake).exists()
    assert {fi, fs, td} <= set(listing(cancelled(intake)))
    assert [(r.status, r.submission_id) for r in intake.files_of(name=fi)] == [("cancelled", None)]
    (logged,) = intake.log("cancel")
    assert logged.result == "ok" and {fi, fs} <= set(logged.details["cancelled"])


def test_a_td_after_the_decision_cancels_nothing_of_it(intake, monkeypatch):  # noqa: F811
    files = build(intake.kit, parts=2)
    td = "TD" + files.go[2:]
    submission_id = intake.send(files)
    carry_out = intake.pipeline._carry_out
    raced: list[int] = []

    def td_first(sid: int, decided, placement):  # type: ignore[no-untyped-def]
        if not raced:  # decided and committed, nothing moved yet: the TD comes now
            raced.append(sid)
            intake.upload("INTEST", td, b"")
        return carry_out(sid, decided, placement)

    monkeypatch.setattr(intake.pipeline, "_carry_out", td_first)
    intake.pipeline.process(submission_id)

    assert raced == [submission_id]
    (logged,) = intake.log("cancel")
    assert (logged.result, logged.error_code, logged.file_name) == ("refused", "FILE_NOT_FOUND", td)
    sub = intake.row(submission_id)
    assert sub.status == "accepted", sub.errors
    _, _, acrf = intake.only_acrf()
    assert acrf.findtext("ResultCode") == "1" and error_ids(acrf) == []
    target = applications(intake) / "DMFA" / "T" / sub.ticket
    assert listing(target) == sorted([n for _, n, _ in files.files] + ["manifest.json"])
    assert listing(cancelled(intake)) == [td]  # only the TD itself
    assert {(r.status, r.submission_id) for r in intake.files_of() if r.kind != "TD"} == {("submitted", sub.id)}


def test_the_same_go_over_another_channel_between_the_read_decision_and_its_write(intake, monkeypatch):  # noqa: F811
    """The same GO over FTP too (another home: no name clash), processed whole while the SFTP GO's decision is
    between its read and its write. It took the SFTP home's parts and the SFTP decision was made again; each
    channel's files are its own now: the FTP GO finds no part, and the SFTP decision stands."""
    files = build(intake.kit, parts=2)
    *parts, go = files.files
    first = intake.send(files)
    second = intake.send(Files([go]), channel="FTP")
    assert first is not None and second is not None
    plans = between_read_and_write(intake, monkeypatch, lambda: intake.pipeline.process(second))
    intake.pipeline.process(first)

    (plan,) = plans
    assert plan is not None and plan.decision["accepted_base"] is not None  # the read had decided to accept
    won, lost = intake.row(first), intake.row(second)
    assert (won.status, lost.status) == ("accepted", "rejected"), (won.errors, lost.errors)
    assert {e["code"] for e in lost.errors} == {"PARTS_INCOMPLETE"}
    assert len(intake.acrfs()) == 2 and won.acrf_name != lost.acrf_name
    names = [n for _, n, _ in parts]
    assert listing(applications(intake) / "DMFA" / "T" / won.ticket) == sorted([*names, go[1], "manifest.json"])
    assert listing(rejected(intake) / lost.ticket) == [go[1], "manifest.json"]  # the FTP GO only
    assert [(r.submission_id, r.status) for r in intake.files_of() if r.kind != "GO"] == [
        (won.id, "submitted")] * len(names)
    assert sorted((r.result, r.file_name) for r in intake.log("submission")) == [
        ("accepted", go[1]), ("rejected", go[1])]


def _orphan_of_a_removed_data_file(partial: Path, name: str) -> None:
    gone = Reservation(partial, name, "dead-instance", stale_after_s=600)
    os.close(gone.fd)
    gone.data.unlink()  # its data file removed (a purge, a hand): the claim is the inode's last link


def _orphan_plain_file(partial: Path, name: str) -> None:
    partial.mkdir(exist_ok=True)
    (partial / name).write_bytes(b"")


@pytest.mark.parametrize("orphan", [_orphan_of_a_removed_data_file, _orphan_plain_file])
def test_an_orphan_claim_does_not_block_a_new_upload_of_its_name(intake, orphan):  # noqa: F811
    session = intake.session()
    (folder, fi, signed), _, _ = build(intake.kit).files
    partial = session.home / ".partial"
    orphan(partial, fi)
    assert (partial / fi).stat().st_nlink == 1  # fresh (written just now), shared by no data file

    transfers = intake.gateway.transfers
    upload = transfers.open_upload(session, f"/{folder}/{fi}")  # at once: no UPLOAD_IN_PROGRESS
    upload.append(signed)
    transfers.settle(upload, UploadEnd.COMPLETED)
    assert (session.home / folder / fi).read_bytes() == signed
    assert [(e.result, e.error_code) for e in intake.log("upload")] == [("ok", None)]
    assert [p for p in partial.rglob("*") if not p.is_dir()] == []  # the orphan went with the takeover


def test_a_live_claim_of_another_instance_still_blocks(intake):  # noqa: F811
    session = intake.session()
    (folder, fi, _), _, _ = build(intake.kit).files
    partial = session.home / ".partial"
    live = Reservation(partial, fi, "live-instance", stale_after_s=600)
    try:
        with pytest.raises(GGAError) as refused:
            intake.gateway.transfers.open_upload(session, f"/{folder}/{fi}")
        assert refused.value.code == ErrorCode.UPLOAD_IN_PROGRESS
        assert (partial / fi).samefile(live.data)  # its claim untouched
        assert [(e.result, e.error_code) for e in intake.log("upload")] == [
            ("refused", str(ErrorCode.UPLOAD_IN_PROGRESS))]
        assert not (session.home / folder / fi).exists()
    finally:
        os.close(live.fd)
        live.release()


def test_a_given_up_go_over_another_channel_between_the_read_decision_and_its_write(intake,  # noqa: F811
                                                                                     monkeypatch):
    """As above, but the FTP GO is rejected for failing past the give-up time: a rejected submission answers for
    the parts it finds, and it took the SFTP home's; now it finds none there, and the SFTP GO is accepted."""
    files = build(intake.kit, parts=2)
    *parts, go = files.files
    first = intake.send(files)
    second = intake.send(Files([go]), channel="FTP")
    assert first is not None and second is not None
    with intake.db.session() as session:
        session.execute(update(Submission).where(Submission.id == second).values(
            created_at=utcnow() - timedelta(hours=25), last_error="OSError('disk unavailable')"))
    plans = between_read_and_write(intake, monkeypatch, lambda: intake.pipeline.process(second))
    intake.pipeline.process(first)

    (plan,) = plans
    assert plan is not None and plan.decision["accepted_base"] is not None
    given_up, accepted = intake.row(second), intake.row(first)
    assert [e["code"] for e in given_up.errors] == ["PROCESSING_FAILED"]
    assert accepted.status == "accepted", accepted.errors
    names = [n for _, n, _ in parts]
    assert listing(rejected(intake) / given_up.ticket) == [go[1], "manifest.json"]
    assert listing(applications(intake) / "DMFA" / "T" / accepted.ticket) == sorted(
        [*names, go[1], "manifest.json"])
    assert [(r.submission_id, r.status) for r in intake.files_of() if r.kind != "GO"] == [
        (accepted.id, "submitted")] * len(names)


def test_a_td_racing_a_go_whose_data_parts_were_all_refused(intake, monkeypatch):  # noqa: F811
    """Nothing but the GO can refuse the claim here (its FI was refused while streaming): the race with the TD
    must still leave every file where its row says it is."""
    (_, fi, _), _, go = build(intake.kit).files
    intake.pipeline.refused(intake.session(), "INTEST", parse(fi), ErrorCode.FILE_TOO_LARGE, 600 << 20)
    td = "TD" + go[1][2:]
    submission_id = intake.send(Files([go]))
    plans = between_read_and_write(intake, monkeypatch, lambda: intake.upload("INTEST", td, b""))
    intake.pipeline.process(submission_id)

    (plan,) = plans
    assert plan is not None
    sub = intake.row(submission_id)
    assert sub.status == "rejected"
    where = {r.name: Path(r.path) for r in intake.files_of() if r.path}
    assert [name for name, path in where.items() if not path.is_file()] == []  # the GO's row names a missing file
    folder = rejected(intake) / sub.ticket
    listed = [f["name"] for f in json.loads((folder / "manifest.json").read_text())["files"]]
    assert set(listed) <= set(listing(folder))


def remove_channel(intake: Intake, channel: str) -> None:  # noqa: F811
    from admin_api.sender import service as senders
    from tests.gateway.test_core_paths import gap_of

    with intake.db.session() as session:
        senders.remove_channel(session, gap_of(intake.db, intake.kit), intake.kit.domain_id, channel,
                               spool_dir=intake.gateway.spool.root)


def test_a_channel_removed_between_the_read_decision_and_its_write_gets_no_acrf(intake, monkeypatch):  # noqa: F811
    """The decision read DMFA's preferred channel, SFTP; the access manager removes SFTP before it is written: the
    ACRF went to the removed channel's folder, out of the sender's reach. The decision is now made again on the
    channels left."""
    files = build(intake.kit)
    submission_id = intake.send(files, channel="FTP")
    plans = between_read_and_write(intake, monkeypatch, lambda: remove_channel(intake, "SFTP"))
    intake.pipeline.process(submission_id)

    (plan,) = plans
    assert plan is not None and plan.decision["delivered_channel"] == "SFTP"  # the race happened
    sub = intake.row(submission_id)
    assert sub.status == "accepted" and sub.delivered_channel in ("FTP", "WS"), (sub.status, sub.delivered_channel)
    channel, folder, acrf = intake.only_acrf()
    assert (channel, folder, acrf.findtext("ResultCode")) == (sub.delivered_channel, "OUTTEST", "1")
    (delivered,) = intake.log("delivery")
    assert delivered.details["channel"] == sub.delivered_channel


def test_a_sender_deleted_between_the_read_decision_and_its_write_is_answered_blocked(intake,  # noqa: F811
                                                                                      monkeypatch):
    """The decision read the sender active; it is deleted (or blocked) before the decision is written: it was
    accepted all the same, its ACRF put where no login reaches and its files handed to the application (found by
    a review helper). The sender is read again after the channel's lock: the decision is made again, rejected."""
    from store.models import Sender
    files = build(intake.kit)
    submission_id = intake.send(files)

    def delete() -> None:
        with intake.db.session() as session:
            session.execute(update(Sender).where(Sender.number == intake.kit.number).values(status="deleted"))
    plans = between_read_and_write(intake, monkeypatch, delete)
    intake.pipeline.process(submission_id)

    (plan,) = plans
    assert plan is not None and plan.sender.active  # the race happened
    sub = intake.row(submission_id)
    assert sub.status == "rejected", sub.status
    _, _, acrf = intake.only_acrf()
    assert acrf.findtext("ResultCode") == "0" and error_ids(acrf) == ["SENDER_BLOCKED"], error_ids(acrf)


def test_a_channel_whose_acrf_is_decided_but_not_yet_delivered_is_not_removed(intake, monkeypatch):  # noqa: F811
    """Decided for SFTP, its ACRF about to be written: removing SFTP now is refused as for files already waiting
    there (RETURNS_WAITING, with the submission's ticket); the ACRF lands, and once picked up the channel goes."""
    files = build(intake.kit)
    submission_id = intake.send(files, channel="FTP")
    deliver = intake.pipeline._deliver_acrf
    refusals: list[GGAError] = []

    def delivering(sub, *args):  # type: ignore[no-untyped-def]
        try:
            remove_channel(intake, "SFTP")
        except GGAError as err:
            refusals.append(err)
        return deliver(sub, *args)

    monkeypatch.setattr(intake.pipeline, "_deliver_acrf", delivering)
    intake.pipeline.process(submission_id)
    sub = intake.row(submission_id)
    (refused,) = refusals
    assert refused.code == ErrorCode.RETURNS_WAITING and refused.details["submissions"] == [sub.ticket]
    channel, _, acrf = intake.only_acrf()
    assert (channel, sub.delivered_channel, acrf.findtext("ResultCode")) == ("SFTP", "SFTP", "1")


def test_a_channel_removal_racing_a_decision_write_waits_for_it_then_is_refused(intake):  # noqa: F811
    """The decision's write holds the ACRF's channel (FOR SHARE on PostgreSQL, the write turn on SQLite) until it
    commits: a removal meanwhile waits, then sees the decision and is refused, instead of both committing."""
    submission_id = intake.send(build(intake.kit), channel="FTP")
    outcome: list[BaseException | None] = []

    def removing() -> None:
        try:
            remove_channel(intake, "SFTP")
            outcome.append(None)
        except BaseException as exc:  # reported by the assertion below
            outcome.append(exc)

    remover = threading.Thread(target=removing)
    with intake.db.engine.begin() as connection:
        sub = pipeline_module._submission(connection, submission_id)
        decided = intake.pipeline._write_plan(connection, sub, intake.pipeline._plan_in(connection, sub))
        assert decided.sub.delivered_channel == "SFTP"
        remover.start()
        remover.join(1.0)
        assert remover.is_alive() and outcome == []  # waiting for the decision
    remover.join(30)
    (refused,) = outcome
    assert isinstance(refused, GGAError) and refused.code == ErrorCode.RETURNS_WAITING, refused
