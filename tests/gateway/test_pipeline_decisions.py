"""The intake pipeline's decisions on the real database, without front ends: uploads handed over as a front end
would, each submission processed synchronously, then its outcome read back from the database and the disk."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from defusedxml.ElementTree import fromstring as defused_fromstring
from sqlalchemy import select

from gateway.core.gateway import Gateway
from gateway.core.session import GatewaySession
from gateway.core.upload import ReceivedUpload
from gateway.naming import parse
from kernel.errors import ErrorCode
from store.models import ReceivedFile, Submission, TransferEvent
from tests.gateway.harness import SenderKit, build, error_ids, seed_sender, today
from tests.gateway.harness import Submission as Files

CHANNELS = ("SFTP", "FTP", "WS")
RETURN_FOLDERS = ("OUT", "OUTTEST", "OUTTEST-S")


class Intake:
    """The gateway (built, never started), its sender, and what the pipeline scheduled."""

    def __init__(self, gateway: Gateway, kit: SenderKit, db):  # type: ignore[no-untyped-def]
        self.gateway, self.pipeline, self.kit, self.db = gateway, gateway.pipeline, kit, db
        self.scheduled: list[int] = []

    def session(self, channel: str = "SFTP") -> GatewaySession:
        sender = self.gateway.directory.by_number(self.kit.number)
        assert sender is not None
        return GatewaySession(sender, channel, channel, "127.0.0.1:40000", self.home(channel))

    def home(self, channel: str = "SFTP") -> Path:
        return self.gateway.spool.home(self.kit.number, channel)

    def upload(self, folder: str, name: str, content: bytes, channel: str = "SFTP") -> None:
        """What ``Upload.finish`` hands over: the file in place under its name, its size and streamed SHA-256."""
        path = self.home(channel) / folder / name
        path.write_bytes(content)
        self.pipeline.received(ReceivedUpload(self.session(channel), folder, parse(name), path, len(content),
                                              hashlib.sha256(content).hexdigest(), 3))

    def send(self, files: Files, channel: str = "SFTP") -> int | None:
        """Upload every file; the submission the GO opened, if one was scheduled."""
        before = len(self.scheduled)
        for folder, name, content in files.files:
            self.upload(folder, name, content, channel)
        return self.scheduled[-1] if len(self.scheduled) > before else None

    def submit(self, files: Files, channel: str = "SFTP") -> Submission:
        submission_id = self.send(files, channel)
        assert submission_id is not None, "no submission was opened"
        self.pipeline.process(submission_id)
        self.gateway.relay.relay_once()  # the outbox relay's round: the event reaches the bus
        return self.row(submission_id)

    def row(self, submission_id: int) -> Submission:
        with self.db.session() as session:
            row = session.get(Submission, submission_id)
            assert row is not None
            return row

    def files_of(self, **where) -> list[ReceivedFile]:  # type: ignore[no-untyped-def]
        with self.db.session() as session:
            query = select(ReceivedFile).filter_by(**where).order_by(ReceivedFile.id)
            return list(session.scalars(query))

    def log(self, event: str) -> list[TransferEvent]:
        with self.db.session() as session:
            return list(session.scalars(select(TransferEvent).where(TransferEvent.event == event)
                                        .order_by(TransferEvent.id)))

    def acrfs(self) -> list[tuple[str, str, Path]]:
        """Every ACRF delivered (its GO trigger present), wherever: (channel, folder, FO path)."""
        return sorted((channel, folder, go.parent / ("FO" + go.name[2:]))
                      for channel in CHANNELS for folder in RETURN_FOLDERS
                      for go in (self.home(channel) / folder).glob("GO.ACRF.*"))

    def only_acrf(self) -> tuple[str, str, ET.Element]:
        (channel, folder, fo), *more = self.acrfs() or [(None, None, None)]
        assert fo is not None and more == [], self.acrfs()
        return channel, folder, defused_fromstring(fo.read_bytes())

    def waiting(self, channel: str = "SFTP", folder: str = "INTEST") -> list[str]:
        return sorted(p.name for p in (self.home(channel) / folder).iterdir())


@pytest.fixture
def intake(services, db, tmp_path, monkeypatch) -> Intake:
    """An enterprise, its GAP, one "Employeur ONSS" domain, the gateway test sender, and the gateway's pipeline
    with scheduling recorded instead of run on its thread pool."""
    kit = seed_sender(db, services, tmp_path, enterprise=505050)  # the admin service only: no server
    gateway = services.returns  # Gateway.build by the services fixture, which closes it
    assert isinstance(gateway, Gateway)
    intake = Intake(gateway, kit, db)
    monkeypatch.setattr(gateway.pipeline, "schedule", intake.scheduled.append)
    return intake


def applications(intake: Intake) -> Path:
    return intake.gateway.spool.root.parent / "applications"


def rejected(intake: Intake) -> Path:
    return intake.gateway.spool.root / "rejected" / intake.kit.number


# -- accepted -------------------------------------------------------------------------------------------------------
def test_an_accepted_submission(intake):
    files = build(intake.kit, parts=2)
    sub = intake.submit(files)

    assert sub.status == "accepted" and sub.errors == [] and sub.processed_at is not None
    assert sub.go_name == files.go and sub.base == parse(files.go).base
    assert sub.delivered_channel == "SFTP"  # DMFA's preferred channel
    assert re.fullmatch(rf"FO\.ACRF\.999999\.{today()}\.[0-9A-Z]{{5}}\.T", sub.acrf_name)
    assert re.fullmatch(r"[0-9A-Z]{13}", sub.ticket)
    # one ACRF, in the return folder of the preferred channel, under the name decided
    channel, folder, acrf = intake.only_acrf()
    assert (channel, folder) == ("SFTP", "OUTTEST")
    assert (intake.home() / "OUTTEST" / sub.acrf_name).is_file()
    assert (intake.home() / "OUTTEST" / ("FS" + sub.acrf_name[2:])).is_file()
    assert acrf.findtext("FileName") == files.go and acrf.findtext("ReferenceNbr") == sub.ticket
    assert acrf.findtext("ResultCode") == "1" and error_ids(acrf) == []
    data = {name: content for _, name, content in files.files if name.startswith("FI.")}
    assert [(f.get("name"), f.get("size"), f.get("sha256")) for f in acrf.find("Files")] == [
        (name, str(len(content)), hashlib.sha256(content).hexdigest()) for name, content in data.items()]
    # the parts and the manifest are in the application's folder, the upload folder is empty
    target = applications(intake) / "DMFA" / "T" / sub.ticket
    assert sorted(p.name for p in target.iterdir()) == sorted([n for _, n, _ in files.files] + ["manifest.json"])
    assert intake.waiting() == []
    assert not rejected(intake).exists()
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["ticket"] == sub.ticket and manifest["result"] == "accepted" and manifest["errors"] == []
    assert (manifest["sender_number"], manifest["application"], manifest["environment"], manifest["channel"],
            manifest["go"]) == (intake.kit.number, "DMFA", "T", "SFTP", files.go)
    assert [f["name"] for f in manifest["files"]] == [n for _, n, _ in files.files]
    # every file row is closed, belongs to the submission and points at its new place
    rows = intake.files_of()
    assert [(r.status, r.submission_id) for r in rows] == [("submitted", sub.id)] * 5
    assert {Path(r.path).parent for r in rows} == {target}
    (logged,) = intake.log("submission")
    assert (logged.result, logged.error_code, logged.file_name, logged.sender_number) == (
        "accepted", None, files.go, intake.kit.number)
    topic, payload = intake.gateway.bus.recent[-1]
    assert topic == "submission.accepted" and payload["ticket"] == sub.ticket and payload["folder"] == str(target)


@pytest.mark.parametrize(("app", "env", "content", "channel", "folder"), [
    ("DMFA", "R", None, "SFTP", "OUT"),
    ("DMFA", "S", None, "SFTP", "OUTTEST-S"),
    ("DIMN", "T", b"DIMONA flat file", "FTP", "OUTTEST"),  # DIMN prefers FTP
    ("ZIMA", "R", b"risk declaration", "WS", "OUT"),  # ZIMA prefers WS
])
def test_the_acrf_goes_to_the_preferred_channel_in_the_environments_folder(intake, app, env, content, channel,
                                                                            folder):
    files = build(intake.kit, app=app, env=env, **({"content": content} if content else {}))
    sub = intake.submit(files)  # uploaded over SFTP
    assert sub.status == "accepted", sub.errors
    assert sub.delivered_channel == channel
    assert intake.only_acrf()[:2] == (channel, folder)
    assert (applications(intake) / app / env / sub.ticket / "manifest.json").is_file()


# -- rejected -------------------------------------------------------------------------------------------------------
def test_a_rejected_submission(intake):
    files = build(intake.kit, sign=False)
    sub = intake.submit(files)

    fi = files.files[0][1]
    assert sub.status == "rejected" and sub.processed_at is not None
    assert [(e["code"], e["error_id"], e["file_name"]) for e in sub.errors] == [
        ("SIGNATURE_MISSING", "SIGNATURE_MISSING", fi)]
    _, _, acrf = intake.only_acrf()
    assert acrf.findtext("ResultCode") == "0" and error_ids(acrf) == ["SIGNATURE_MISSING"]
    assert acrf.findtext("ReferenceNbr") == sub.ticket
    assert fi in acrf.findtext("Error/ErrorDescription")
    target = rejected(intake) / sub.ticket
    assert sorted(p.name for p in target.iterdir()) == sorted([n for _, n, _ in files.files] + ["manifest.json"])
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["result"] == "rejected" and [e["code"] for e in manifest["errors"]] == ["SIGNATURE_MISSING"]
    assert intake.waiting() == []
    assert not applications(intake).exists()
    (logged,) = intake.log("submission")
    assert (logged.result, logged.error_code) == ("rejected", "SIGNATURE_MISSING")
    assert not any(topic == "submission.accepted" for topic, _ in intake.gateway.bus.recent)


@pytest.mark.parametrize(("env", "folder", "acrf_folder", "ids"), [
    ("X", "INTEST", "OUTTEST", ["ACRF-117"]),  # no such environment: answered where the GO came in
    ("R", "INTEST", "OUT", ["ACRF-118"] * 3),  # FI, FS and GO each in the wrong folder
    ("T", "INTEST-S", "OUTTEST", ["ACRF-119"] * 3),
])
def test_environment_findings(intake, env, folder, acrf_folder, ids):
    sub = intake.submit(build(intake.kit, env=env, folder=folder))
    assert sub.status == "rejected"
    assert [e["error_id"] for e in sub.errors] == ids
    channel, returned_to, acrf = intake.only_acrf()
    assert (channel, returned_to) == ("SFTP", acrf_folder)
    assert error_ids(acrf) == ids and acrf.findtext("ResultCode") == "0"
    assert intake.waiting(folder=folder) == []
    assert (rejected(intake) / sub.ticket / "manifest.json").is_file()


def test_a_part_refused_while_streaming_is_named_in_the_acrf(intake):
    files = build(intake.kit, parts=2)
    too_big = files.files[2][1]  # FI ...2.2
    files.files = [f for f in files.files if f[1] not in (too_big, "FS" + too_big[2:])]
    intake.pipeline.refused(intake.session(), "INTEST", parse(too_big), ErrorCode.FILE_TOO_LARGE, 600 << 20)
    sub = intake.submit(files)
    assert sub.status == "rejected"
    assert [(e["code"], e["error_id"], e["file_name"]) for e in sub.errors] == [
        ("FILE_TOO_LARGE", "ACRF-184", too_big)]
    acrf = intake.only_acrf()[2]
    assert error_ids(acrf) == ["ACRF-184"]
    assert [f.get("name") for f in acrf.find("Files")] == [files.files[0][1]]  # only what was kept
    manifest = json.loads((rejected(intake) / sub.ticket / "manifest.json").read_text())
    assert too_big not in [f["name"] for f in manifest["files"]]


def test_a_name_rejected_for_a_part_too_large_may_be_sent_again(intake):
    files = build(intake.kit, parts=2)
    too_big = files.files[2][1]
    first = Files([f for f in files.files if f[1] not in (too_big, "FS" + too_big[2:])])
    intake.pipeline.refused(intake.session(), "INTEST", parse(too_big), ErrorCode.FILE_TOO_LARGE, 600 << 20)
    assert intake.submit(first).status == "rejected"
    again = intake.submit(build(intake.kit, parts=2))  # the whole submission again, part 2 now small enough
    assert again.status == "accepted", again.errors


def test_only_the_parts_of_that_name_received_before_its_go(intake):
    other = build(intake.kit, seq="00002")
    other.files.pop()  # another submission, its GO not yet come
    intake.send(other)
    fi1, fs1, fi2, fs2, go = build(intake.kit, seq="00001", parts=2).files
    submission_id = intake.send(Files([fi1, fs1, go]))
    intake.send(Files([fi2, fs2]))  # part 2 comes after the GO, before the GO is processed
    intake.pipeline.process(submission_id)
    sub = intake.row(submission_id)
    assert [(e["code"], e["file_name"], e["detail"]) for e in sub.errors] == [
        ("PARTS_INCOMPLETE", go[1], "FI part 2 of 2 is missing")]
    assert sorted(p.name for p in (rejected(intake) / sub.ticket).iterdir()) == sorted(
        [fi1[1], fs1[1], go[1], "manifest.json"])
    still = sorted([n for _, n, _ in other.files] + [fi2[1], fs2[1]])
    assert intake.waiting() == still
    assert sorted(r.name for r in intake.files_of(status="received")) == still


# -- the same name twice, a resubmission, processing twice ------------------------------------------------------------
def test_a_second_submission_under_an_accepted_name_is_rejected(intake):
    first = intake.submit(build(intake.kit))
    assert first.status == "accepted"
    second = intake.submit(build(intake.kit))  # the same name again, after the first was taken away
    assert second.status == "rejected" and second.ticket != first.ticket
    assert [(e["code"], e["file_name"]) for e in second.errors] == [("NAME_ALREADY_ACCEPTED", first.go_name)]
    assert len(intake.acrfs()) == 2
    assert (rejected(intake) / second.ticket / "manifest.json").is_file()
    # the accepted submission's files stay where they were
    assert len(list((applications(intake) / "DMFA" / "T" / first.ticket).iterdir())) == 4


def test_a_rejected_name_may_be_sent_again(intake):
    assert intake.submit(build(intake.kit, sign=False)).status == "rejected"
    again = intake.submit(build(intake.kit))
    assert again.status == "accepted", again.errors


def test_a_submission_is_processed_once(intake):
    submission_id = intake.send(build(intake.kit))
    intake.pipeline.process(submission_id)
    first = intake.row(submission_id)
    intake.pipeline.process(submission_id)  # a second worker, a recovery: the claim fails, nothing happens
    assert intake.row(submission_id).processed_at == first.processed_at
    assert len(intake.acrfs()) == 1 and len(intake.log("submission")) == 1


# -- TD -------------------------------------------------------------------------------------------------------------
def test_td_cancels_the_waiting_parts(intake):
    files = build(intake.kit, parts=2)
    go = files.files.pop()
    intake.send(files)
    td = "TD" + go[1][2:]
    intake.upload("INTEST", td, b"")
    assert intake.scheduled == []  # a TD opens no submission
    cancelled = intake.gateway.spool.root / "cancelled" / intake.kit.number
    assert sorted(p.name for p in cancelled.iterdir()) == sorted([n for _, n, _ in files.files] + [td])
    assert intake.waiting() == []
    assert {r.status for r in intake.files_of()} == {"cancelled"}
    (logged,) = intake.log("cancel")
    assert logged.result == "ok" and logged.file_name == td
    assert sorted(logged.details["cancelled"]) == sorted(n for _, n, _ in files.files)
    # the GO that follows finds nothing to close
    sub = intake.submit(Files([go]))
    assert sub.status == "rejected"
    assert [e["code"] for e in sub.errors] == ["PARTS_INCOMPLETE", "PARTS_INCOMPLETE"]


def test_td_with_nothing_waiting_is_logged_as_refused(intake):
    accepted = intake.submit(build(intake.kit))
    intake.upload("INTEST", "TD" + accepted.go_name[2:], b"")
    (logged,) = intake.log("cancel")
    assert (logged.result, logged.error_code) == ("refused", "FILE_NOT_FOUND")
    assert intake.row(accepted.id).status == "accepted"  # processed submissions are not touched
    assert len(list((applications(intake) / "DMFA" / "T" / accepted.ticket).iterdir())) == 4


# -- parts without a GO -----------------------------------------------------------------------------------------------
def test_parts_without_a_go_get_one_acrf_130(intake):
    files = build(intake.kit, parts=2)
    go = files.files.pop()[1]
    intake.send(files)
    assert intake.pipeline.sweep_orphans(timedelta(hours=1)) == 0  # not waited long enough yet
    assert intake.scheduled == []
    assert intake.pipeline.sweep_orphans(timedelta(seconds=-1)) == 1
    (submission_id,) = intake.scheduled
    intake.pipeline.process(submission_id)
    sub = intake.row(submission_id)
    assert sub.status == "rejected" and sub.go_name == go  # a stand-in for the GO that never came
    fis = [n for _, n, _ in files.files if n.startswith("FI.")]
    assert [(e["code"], e["error_id"], e["file_name"]) for e in sub.errors] == [
        ("GO_MISSING", "ACRF-130", fi) for fi in fis]
    channel, folder, acrf = intake.only_acrf()
    assert (channel, folder) == ("SFTP", "OUTTEST")
    assert acrf.findtext("FileName") == go and error_ids(acrf) == ["ACRF-130", "ACRF-130"]
    assert intake.waiting() == []
    assert sorted(p.name for p in (rejected(intake) / sub.ticket).iterdir()) == sorted(
        [n for _, n, _ in files.files] + ["manifest.json"])
    # answered once
    assert intake.pipeline.sweep_orphans(timedelta(seconds=-1)) == 0
    assert intake.scheduled == [submission_id] and len(intake.acrfs()) == 1
