"""The one intake pipeline every front end hands finished uploads to.

A GO creates a submission in the same transaction that records it, so a restart loses nothing. Processing is
claimed by a status change (one worker, one instance, processes it), the decision (findings, ticket, ACRF name) is
committed before any side effect, and the side effects (ACRF delivery, moving the parts) are idempotent: a crash at
any point ends, after recovery, in exactly one ACRF.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway import acrf
from gateway.acrf import Finding, PartSummary
from gateway.checks import CheckContext, SubmissionFiles, check, now
from gateway.core.events import EventBus
from gateway.core.session import GatewaySession
from gateway.core.spool import Spool, move_all, write_durably
from gateway.core.translog import TransferLog
from gateway.core.upload import ReceivedUpload
from gateway.naming import ENVIRONMENTS, BatchName, parse
from gateway.returns import GATEWAY_SENDER, ReturnDelivery
from kernel.clock import utcnow
from kernel.errors import ErrorCode
from kernel.tickets import new_sequence, new_ticket
from keys.cms import VerificationPolicy
from store.database import Database
from store.directory import SenderDirectory, SenderInfo
from store.models import ReceivedFile, Submission

log = logging.getLogger("gga.pipeline")
FOLDER_ENV = {folder: env for env, folder in ENVIRONMENTS.items()}


class IntakePipeline:
    def __init__(self, db: Database, directory: SenderDirectory, spool: Spool, translog: TransferLog,
                 returns: ReturnDelivery, bus: EventBus, policy: VerificationPolicy, max_age_days: int):
        self.db, self.directory, self.spool, self.translog = db, directory, spool, translog
        self.returns, self.bus, self.policy, self.max_age_days = returns, bus, policy, max_age_days
        self.executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="intake")

    # -- what front ends call (blocking: from a worker thread) -------------------------------------------------
    def received(self, upload: ReceivedUpload) -> None:
        """A durable upload: recorded, then a GO schedules its submission and a TD cancels one."""
        s, name = upload.session, upload.name
        with self.db.session() as session:
            row = ReceivedFile(sender_id=s.sender.id, channel=s.channel, folder=upload.folder, name=str(name),
                               kind=name.kind, base=name.base, total=name.total, part=name.part,
                               path=str(upload.path), size=upload.size, sha256=upload.sha256)
            session.add(row)
            session.flush()
            submission_id = self._open_submission(session, row, name, s) if name.kind == "GO" else None
        try:  # recorded and durable: the sender is told so whatever happens next (a GO is taken up at start)
            self.translog.record("upload", "ok", protocol=s.protocol, file_name=str(name), size=upload.size,
                                 sha256=upload.sha256, duration_ms=upload.duration_ms,
                                 application=name.application, environment=name.environment, **s.log_fields())
            if submission_id is not None:
                self.schedule(submission_id)
            if name.kind == "TD":
                self.cancel(s, name)
        except Exception:
            log.exception("after recording %s", name)

    def refused(self, s: GatewaySession, folder: str, name: BatchName, code: ErrorCode, size: int) -> None:
        """A part refused while streaming (too large): the GO's ACRF will name it."""
        with self.db.session() as session:
            session.add(ReceivedFile(sender_id=s.sender.id, channel=s.channel, folder=folder, name=str(name),
                                     kind=name.kind, base=name.base, total=name.total, part=name.part, path="",
                                     size=size, status="refused", error_code=str(code)))
        self.translog.record("upload", "refused", protocol=s.protocol, error_code=str(code), file_name=str(name),
                             size=size, application=name.application, environment=name.environment,
                             **s.log_fields())

    def interrupted(self, s: GatewaySession, name: str, size: int) -> None:
        self.translog.record("upload", "incomplete", protocol=s.protocol, error_code=str(ErrorCode.UPLOAD_INCOMPLETE),
                             file_name=name, size=size, **s.log_fields())

    def _open_submission(self, session: Session, go: ReceivedFile, name: BatchName, s: GatewaySession) -> int:
        submission = Submission(sender_id=s.sender.id, go_file_id=go.id, base=name.base, go_name=str(name),
                                channel=s.channel, application=name.application, environment=name.environment,
                                ticket=new_ticket())
        session.add(submission)
        session.flush()
        return submission.id

    # -- processing ----------------------------------------------------------------------------------------------
    def schedule(self, submission_id: int) -> None:
        self.executor.submit(self._safely, submission_id)

    def _safely(self, submission_id: int) -> None:
        try:
            self.process(submission_id)
        except Exception:  # stays 'received'/'decided' and is taken up again at the next start
            log.exception("submission %s failed; it will be retried at restart", submission_id)

    def process(self, submission_id: int) -> None:
        with self.db.session() as session:
            claimed = session.execute(update(Submission).where(
                Submission.id == submission_id, Submission.status == "received").values(status="processing"))
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return
        self._decide(submission_id)
        self._carry_out(submission_id)

    def _decide(self, submission_id: int) -> None:
        with self.db.session() as session:
            sub = session.get(Submission, submission_id)
            assert sub is not None
            sender = self.directory.by_id(sub.sender_id)
            assert sender is not None
            files = self._files(session, sub)
            already = session.scalar(select(Submission.id).where(
                Submission.sender_id == sub.sender_id, Submission.base == sub.base, Submission.id != sub.id,
                Submission.status == "accepted")) is not None
            if files.go.status == "missing":  # the sweeper's stand-in: the GO never came
                findings = [Finding(ErrorCode.GO_MISSING, f.name, "no GO arrived") for f in files.data]
            elif not sender.active:  # blocked after it logged in: nothing it sends from now on is taken
                findings = [Finding(ErrorCode.SENDER_BLOCKED, sub.go_name, "the sender was blocked")]
            else:
                findings = check(CheckContext(sender, sub.channel, files, already, self.max_age_days, self.policy,
                                              now()))
            environment = sub.environment if sub.environment in ENVIRONMENTS else FOLDER_ENV.get(files.go.folder, "T")
            day = now().strftime("%Y%m%d")
            sub.errors = [f.as_json() for f in findings]
            sub.acrf_name = str(BatchName("FO", "ACRF", GATEWAY_SENDER, day, new_sequence(), environment))
            sub.delivered_channel = self.returns.channel_for(sender, sub.application, sub.channel)
            sub.status = "decided"
            for f in [*files.all(), *files.refused]:  # the GO answers for them all: none counts again later
                f.submission_id = sub.id

    def _files(self, session: Session, sub: Submission) -> SubmissionFiles:
        go = session.get(ReceivedFile, sub.go_file_id)
        assert go is not None
        files = SubmissionFiles(go)
        rows = session.scalars(select(ReceivedFile).where(
            ReceivedFile.sender_id == sub.sender_id, ReceivedFile.base == sub.base, ReceivedFile.id < go.id,
            ReceivedFile.status.in_(("received", "refused")), ReceivedFile.submission_id.is_(None),
            ReceivedFile.kind.in_(("FI", "FS"))
        ).order_by(ReceivedFile.id))
        rows = list(rows)
        kept = {r.name for r in rows if r.status == "received"}
        for row in rows:
            if row.status == "received":
                (files.data if row.kind == "FI" else files.signatures).append(row)
            elif row.name in kept:  # refused, then resent whole: the resend answers for the name
                row.status = "superseded"
            else:
                files.refused.append(row)
        return files

    def _carry_out(self, submission_id: int) -> None:
        """Deliver the ACRF and move the parts (both idempotent), then close the submission."""
        with self.db.session() as session:
            sub = session.get(Submission, submission_id)
            assert sub is not None and sub.status == "decided" and sub.acrf_name and sub.delivered_channel
            sender = self.directory.by_id(sub.sender_id)
            assert sender is not None
            parts = session.scalars(select(ReceivedFile).where(ReceivedFile.submission_id == sub.id)
                                    .order_by(ReceivedFile.id)).all()
            go = next(p for p in parts if p.id == sub.go_file_id)
            findings = [Finding(ErrorCode(e["code"]), e["file_name"], e.get("detail", "")) for e in sub.errors or []]
            summaries = [PartSummary(p.name, p.size, p.sha256 or "") for p in parts
                         if p.kind == "FI" and p.status != "refused"]  # a refused part was never kept
            document = acrf.document(sub.go_name, sub.ticket, findings, go.received_at, summaries)
            acrf_name = parse(sub.acrf_name)
            self.returns.deliver(sender, "ACRF", acrf_name.environment, document, sub.delivered_channel,
                                 application=sub.application, name=acrf_name)
            accepted = not findings
            target = (self.spool.application_folder(sub.application, sub.environment, sub.ticket) if accepted
                      else self.spool.rejected_folder(sender.number, sub.ticket))
            pending = [p for p in parts if p.path and p.status != "submitted"]
            for p, moved in zip(pending, move_all([Path(p.path) for p in pending], target), strict=True):
                p.path = str(moved)
            for p in parts:
                p.status = "refused" if p.status == "refused" else "submitted"
            manifest = _manifest(sub, sender, parts)
            write_durably(target / "manifest.json", json.dumps(manifest, indent=2).encode())
            sub.status, sub.processed_at = ("accepted" if accepted else "rejected"), utcnow()
        self.translog.record("submission", sub.status, protocol=sub.channel, sender_number=sender.number,
                             technical_user=sender.technical_user, file_name=sub.go_name,
                             application=sub.application, environment=sub.environment,
                             error_code=findings[0].code if findings else None, ticket=sub.ticket,
                             errors=sub.errors or None, acrf=sub.acrf_name, delivered_on=sub.delivered_channel)
        if accepted:
            self.bus.publish("submission.accepted", manifest | {"folder": str(target)})

    def cancel(self, s: GatewaySession, td: BatchName) -> None:
        """TD: the parts of a submission not yet processed go to the cancelled folder."""
        with self.db.session() as session:
            rows = session.scalars(select(ReceivedFile).where(
                ReceivedFile.sender_id == s.sender.id, ReceivedFile.base == td.base,
                ReceivedFile.status == "received")).all()
            target = self.spool.cancelled_folder(s.sender.number)
            with_files = [r for r in rows if r.path]
            for row, moved in zip(with_files, move_all([Path(r.path) for r in with_files], target), strict=True):
                row.path = str(moved)
            for row in rows:
                row.status = "cancelled"
            names = [r.name for r in rows if r.kind != "TD"]
        result = "ok" if names else "refused"
        self.translog.record("cancel", result, protocol=s.protocol, file_name=str(td), application=td.application,
                             environment=td.environment, cancelled=names or None,
                             error_code=None if names else str(ErrorCode.FILE_NOT_FOUND), **s.log_fields())

    def sweep_orphans(self, wait: timedelta) -> int:
        """Parts left waiting longer than ``wait`` for a GO: one rejecting ACRF (ACRF-130) per submission name.

        A stand-in GO row (status ``missing``) carries the submission through the same decide/deliver path.
        """
        cutoff = utcnow() - wait
        with self.db.session() as session:
            waiting = session.scalars(select(ReceivedFile).where(
                ReceivedFile.status == "received", ReceivedFile.kind.in_(("FI", "FS")),
                ReceivedFile.received_at < cutoff).order_by(ReceivedFile.id)).all()
            groups: dict[tuple[int, str], ReceivedFile] = {}
            for row in waiting:
                groups.setdefault((row.sender_id, row.base), row)
            opened = []
            for row in groups.values():
                name = parse(row.name).closing_go()
                go = ReceivedFile(sender_id=row.sender_id, channel=row.channel, folder=row.folder, name=str(name),
                                  kind="GO", base=name.base, total=name.total, path="", status="missing")
                session.add(go)
                session.flush()
                submission = Submission(sender_id=row.sender_id, go_file_id=go.id, base=name.base, go_name=go.name,
                                        channel=row.channel, application=name.application,
                                        environment=name.environment, ticket=new_ticket())
                session.add(submission)
                session.flush()
                opened.append(submission.id)
        for submission_id in opened:
            self.schedule(submission_id)
        return len(opened)

    def recover(self) -> int:
        """At start: finish decided submissions, re-check the ones a stop interrupted."""
        stale = utcnow() - timedelta(minutes=10)
        with self.db.session() as session:
            session.execute(update(Submission).where(Submission.status == "processing",
                                                     Submission.created_at < stale).values(status="received"))
            decided = list(session.scalars(select(Submission.id).where(Submission.status == "decided")))
            waiting = list(session.scalars(select(Submission.id).where(Submission.status == "received")))
        for submission_id in decided:
            self.executor.submit(self._carry_out, submission_id)
        for submission_id in waiting:
            self.schedule(submission_id)
        return len(decided) + len(waiting)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=False)


def _manifest(sub: Submission, sender: SenderInfo, parts: list[ReceivedFile]) -> dict:
    return {"ticket": sub.ticket, "result": "accepted" if not sub.errors else "rejected",
            "sender_number": sender.number, "application": sub.application, "environment": sub.environment,
            "channel": sub.channel, "go": sub.go_name, "errors": sub.errors or [],
            "files": [{"name": p.name, "kind": p.kind, "size": p.size, "sha256": p.sha256} for p in parts
                      if p.status != "refused"],
            "received_at": sub.created_at.isoformat()}
