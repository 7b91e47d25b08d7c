"""The one intake pipeline every front end hands finished uploads to.

A GO creates a submission in the same transaction that records it, so a restart loses nothing. Processing is
claimed by a status change (one worker, one instance, processes it), the decision (findings, ticket, ACRF name) is
committed before any side effect, and the side effects (ACRF delivery, moving the parts) are idempotent: a crash at
any point ends, after recovery, in exactly one ACRF.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, and_, bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway import acrf
from gateway.acrf import Finding, PartSummary
from gateway.checks import CheckContext, SubmissionFiles, check, now
from gateway.core.groupcommit import GroupCommit, flush_queued, insert_row, write_rows
from gateway.core.session import GatewaySession
from gateway.core.spool import Placement, Spool, move_all
from gateway.core.translog import TransferLog
from gateway.core.upload import ReceivedUpload
from gateway.naming import ENVIRONMENTS, BatchName, parse
from gateway.returns import ACKNOWLEDGEMENT, GATEWAY_SENDER, ReturnDelivery
from kernel.clock import utcnow
from kernel.errors import ErrorCode
from kernel.tickets import new_sequence, new_ticket
from keys.cms import VerificationPolicy
from store.database import Database
from store.directory import SenderDirectory, SenderInfo
from store.leases import claimable
from store.models import OutboxEvent, ReceivedFile, Sender, SenderChannel, Submission
from store.rawsql import RawInsert, RawStatement

log = logging.getLogger("gga.pipeline")
LEASE = timedelta(seconds=60)  # a worker that dies frees its submission this long after its claim
RECHECK_AFTER_S = 20.0  # a batch this late after its claims checks their leases still hold before placing files
PENDING = ("received", "decided")
INTAKE_THREADS = 1  # one thread taking batches: a second one measured 10-15 % slower (turns on the interpreter)
INTAKE_BATCH = 16  # submissions an intake thread carries out together: their commits and folder fsyncs shared
INTAKE_SLOTS = 4  # a sibling's backlog taken a few at a time (every share_s), as the 4 threads did
FOLDER_ENV = {folder: env for env, folder in ENVIRONMENTS.items()}


class IntakePipeline:
    def __init__(self, db: Database, directory: SenderDirectory, spool: Spool, translog: TransferLog,
                 returns: ReturnDelivery, policy: VerificationPolicy, max_age_days: int, *, owner: str,
                 give_up: timedelta = timedelta(hours=24), on_event: Callable[[], None] | None = None):
        self.db, self.directory, self.spool, self.translog = db, directory, spool, translog
        self.returns, self.policy, self.max_age_days = returns, policy, max_age_days
        self.owner, self.give_up, self.on_event = owner, give_up, on_event  # on_event: wake the outbox relay
        self.records = GroupCommit(db, "upload-records")
        self._stopping = threading.Event()
        self._loop: threading.Thread | None = None
        self._queued: set[int] = set()  # scheduled here and not finished: not scheduled twice, not stolen back
        self._queued_lock = threading.Lock()
        self._ready: deque[int] = deque()  # scheduled, not taken by an intake thread yet
        self._wake = threading.Condition(self._queued_lock)
        self._intake: list[threading.Thread] = []
        self._closing = False

    # -- what front ends call (blocking: from a worker thread) -------------------------------------------------
    def received(self, upload: ReceivedUpload) -> None:
        """An upload whose bytes are fsynced and linked into its folder: the folder fsynced and the file recorded
        (returns once committed), then a GO schedules its submission and a TD cancels one."""
        # with the records of the uploads ending meanwhile: one fsync of the folder, one commit, then the answer
        line, submission_id = self.records.run(functools.partial(self._record, upload), upload.path.parent)
        self._recorded(upload, line, submission_id)

    def received_soon(self, finish: Callable[[], ReceivedUpload], folder: Path) -> Future[ReceivedUpload]:
        """``received`` without blocking the caller, for an upload still to make durable (not a TD): the group
        commit's writer calls ``finish`` (fsync, link into ``folder``), records it with the others of the moment,
        and the future is resolved once that is committed. An error of ``finish`` comes back as it was raised."""
        made: list[ReceivedUpload] = []
        outcome: Future[ReceivedUpload] = Future()

        def recorded(committed: Future[tuple[dict[str, Any], int | None]]) -> None:
            if (exc := committed.exception()) is not None:
                outcome.set_exception(exc)
                return
            outcome.set_result(made[0])  # the client is answered first: the log line and the scheduling follow
            self._recorded(made[0], *committed.result())

        self.records.submit(lambda session: self._record(made[0], session), folder,
                            prepare=lambda: made.append(finish())).add_done_callback(recorded)
        return outcome

    def _record(self, upload: ReceivedUpload, session: Connection) -> tuple[dict[str, Any], int | None]:
        """The file's row (a GO's submission with it) and its transfer-log row: plain INSERTs, no ORM object."""
        s, name = upload.session, upload.name
        row = dict(sender_id=s.sender.id, channel=s.channel, folder=upload.folder, name=str(name), kind=name.kind,
                   base=name.base, total=name.total, part=name.part, path=str(upload.path), size=upload.size,
                   sha256=upload.sha256)
        if name.kind == "GO":  # after the parts recorded with it (queued on PostgreSQL): its submission takes them
            flush_queued(session)
            go_id = _NEW_GO.run(session, row)
            submission_id: int | None = self._open_submission(session, go_id, upload)
        else:  # with the batch's other files in one INSERT (a GO's id is needed at once: its submission's)
            insert_row(session, _NEW_FILE, row)
            submission_id = None
        line = self.translog.add(session, "upload", "ok", protocol=s.protocol, file_name=str(name),
                                 size=upload.size, sha256=upload.sha256, duration_ms=upload.duration_ms,
                                 application=name.application, environment=name.environment,
                                 **s.log_fields())  # with the record: a crash cannot keep one without the other
        return line, submission_id

    def _recorded(self, upload: ReceivedUpload, line: dict[str, Any], submission_id: int | None) -> None:
        self.translog.emit(line)
        try:  # recorded and durable: the sender is told so whatever happens next (a GO is taken up by the lease loop)
            if submission_id is not None:
                self.schedule(submission_id)
            if upload.name.kind == "TD":
                self.cancel(upload.session, upload.name)
        except Exception:
            log.exception("after recording %s", upload.name)

    def is_recorded(self, path: Path) -> bool:
        """Is this file in an upload folder the one a ReceivedFile row stands for?"""
        with self.db.read() as session:
            return session.scalar(select(ReceivedFile.id).where(ReceivedFile.path == str(path)).limit(1)) is not None

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

    def _open_submission(self, session: Connection, go_id: int, upload: ReceivedUpload) -> int:
        """The GO opens its submission; the upload learns the ticket and where the ACRF will go (the web
        service's answer says both)."""
        s, name = upload.session, upload.name
        ticket = new_ticket()
        submission_id = _NEW_SUBMISSION.run(session, dict(
            sender_id=s.sender.id, go_file_id=go_id, base=name.base, go_name=str(name), channel=s.channel,
            protocol=s.protocol, application=name.application, environment=name.environment, ticket=ticket,
        ))
        upload.ticket = ticket
        upload.acrf_channel = self.returns.channel_for(s.sender, name.application, s.channel)
        return submission_id

    # -- processing ----------------------------------------------------------------------------------------------
    def schedule(self, submission_id: int) -> None:
        """Queued for an intake thread, which takes whatever is waiting (up to ``INTAKE_BATCH``) at once."""
        with self._wake:
            if self._closing:  # the lease loop of the next start takes it
                return
            if submission_id not in self._queued:
                self._queued.add(submission_id)
                self._ready.append(submission_id)
            self._intake = [thread for thread in self._intake if thread.is_alive()]  # one that died is replaced
            if len(self._intake) < INTAKE_THREADS:  # (the lease loop schedules what it left queued again)
                thread = threading.Thread(target=self._intake_loop, name="intake", daemon=True)
                self._intake.append(thread)
                thread.start()
            self._wake.notify()

    def _intake_loop(self) -> None:
        while True:
            with self._wake:
                while not self._ready and not self._closing:
                    self._wake.wait()
                if not self._ready:
                    return
                batch = [self._ready.popleft() for _ in range(min(INTAKE_BATCH, len(self._ready)))]
            try:
                for submission_id, outcome in self.process_many(batch).items():
                    if isinstance(outcome, Exception):  # released with a backoff: the lease loop takes it up again
                        log.error("submission %s failed; it will be retried", submission_id, exc_info=outcome)
            except Exception:
                log.exception("submissions %s failed; they will be retried", batch)
            finally:
                with self._wake:
                    self._queued.difference_update(batch)

    def process(self, submission_id: int) -> bool:
        """Claim the submission's lease, then decide and carry it out. False when another worker holds it, it is
        final, or its retry is not due; raises what failed it (its lease given back with a backoff)."""
        outcome = self.process_many([submission_id])[submission_id]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def process_many(self, submission_ids: list[int]) -> dict[int, bool | Exception]:
        """``process`` for several submissions at once: their claims and decisions in one group commit, their
        ACRFs and parts written with one fsync per folder, their closes in one group commit. Each one's outcome:
        carried out (True), not taken (False), or the error that failed it alone."""
        claiming = time.monotonic()  # at or before the claims: a late batch is never taken for an early one
        outcomes: dict[int, bool | Exception] = {}
        taken = self._take_many(sorted(set(submission_ids)), outcomes)
        self._carry_out_many(taken, claiming, outcomes)
        return {sid: outcomes.get(sid, sid in taken) for sid in submission_ids}

    def _take_many(self, submission_ids: list[int], outcomes: dict[int, bool | Exception]) -> dict[int, _Taken]:
        """The leases and, for new submissions, their decisions, in one short transaction (one commit for all: each
        decision is committed before any side effect all the same), the group commit's, with the upload records of
        the moment (no second writer waiting for SQLite's write turn). Each decision is worked out first on a read
        snapshot, so the checks (signatures, the sender, the parts) do not hold the write turn; the write's guards
        (still undecided, every part still unclaimed and as read, one accepted submission per name) refuse it if
        anything it read changed meanwhile (that submission alone: the group commit tries each record alone when
        one fails). A race or a failure while deciding falls back to the lease alone, then the decision retried in
        one transaction or the failure released with its backoff."""
        pending = {submission_id: self.records.submit(functools.partial(self._take_in, submission_id, plan))
                   for submission_id, plan in self._plans(submission_ids)}  # each claimed while the next is read
        taken = {}
        for submission_id, future in pending.items():
            try:
                one = self._taken(submission_id, future)
            except Exception as exc:
                outcomes[submission_id] = exc
                continue
            if one is not None:
                taken[submission_id] = one
        return taken

    def _take_in(self, submission_id: int, plan: _Plan | None, session: Connection) -> _Taken | None:
        sub = self._claim_in(session, submission_id)
        if sub is None:
            return None
        if sub.status != "received":
            return _Taken(None)
        return _Taken(self._write_plan(session, sub, plan or self._plan_in(session, sub)))

    def _taken(self, submission_id: int, future: Future[_Taken | None]) -> _Taken | None:
        try:
            return future.result()
        except (IntegrityError, _Raced):
            log.info("submission %s: decision raced another; deciding again", submission_id)
        except Exception as exc:
            if self._claim(submission_id):
                self._release(submission_id, exc)
            raise
        if not self._claim(submission_id):
            return None
        try:
            return _Taken(self._decide(submission_id))
        except Exception as exc:
            self._release(submission_id, exc)
            raise

    def _plans(self, submission_ids: list[int]) -> Iterator[tuple[int, _Plan | None]]:
        """The decisions of a batch worked out on one read connection, each sender's snapshot read once for all
        (the same moment for each of them, so just as fresh), yielded as each is read. None where it could not be
        read."""
        senders: dict[int, SenderInfo | None] = {}
        read: set[int] = set()
        try:
            with self.db.read_engine.connect() as session:
                for submission_id in submission_ids:
                    plan = self._plan(submission_id, session, senders)
                    read.add(submission_id)
                    yield submission_id, plan
        except Exception as exc:  # the connection itself: each decision left is worked out in its write
            log.debug("submissions %s: no read connection (%r); deciding in the writes", submission_ids, exc)
        for submission_id in submission_ids:
            if submission_id not in read:
                yield submission_id, None

    def _plan(self, submission_id: int, session: Connection,
              senders: dict[int, SenderInfo | None]) -> _Plan | None:
        """The decision of an undecided submission, read and worked out without writing anything. None when it is
        not undecided, or when the read failed: another worker may be taking its parts (moving their files) right
        now; the decision is then worked out again inside the write, where that race is settled."""
        try:
            if not session.in_transaction():  # the raw statements would not begin one: one snapshot per decision
                session.begin()
            rows = _UNDECIDED.rows(session, {"sid": submission_id, "now": utcnow()})
            plan = self._plan_in(session, _Sub(**rows[0]), senders) if rows else None
            if session.dialect.name == "sqlite":  # the next one on a fresh snapshot: it sees the decisions since
                session.rollback()
            return plan
        except Exception as exc:  # worked out again in the write transaction, which raises if it is real
            log.debug("submission %s: decision on a read failed (%r); deciding in the write", submission_id, exc)
            session.rollback()  # the next one reads in a fresh transaction (PostgreSQL refuses any in a failed one)
            return None

    def _claim(self, submission_id: int) -> bool:
        with self.db.engine.begin() as session:
            return self._claim_in(session, submission_id) is not None

    def _claim_in(self, session: Connection, submission_id: int) -> _Sub | None:
        """The lease, if it is free; the claimed row comes back with the UPDATE (no second read)."""
        now = utcnow()
        rows = _CLAIM.rows(session, {"sid": submission_id, "now": now, "owner": self.owner, "until": now + LEASE})
        return _Sub(**rows[0]) if rows else None

    def _release(self, submission_id: int, exc: Exception) -> None:
        """A failure: the lease is given back with a backoff (2, 4, 8... s, at most 5 minutes)."""
        with self.db.session() as session:
            sub = session.get(Submission, submission_id)
            if sub is not None and sub.lease_owner == self.owner:
                sub.lease_owner, sub.lease_until, sub.last_error = None, None, repr(exc)[:2000]
                sub.next_attempt_at = utcnow() + timedelta(seconds=min(2 ** sub.attempts, 300))

    def _decide(self, submission_id: int) -> _Decided | None:
        """Findings, ACRF name and parts committed at once. The database settles races: a second accepted
        submission of one name, a part claimed twice or an ACRF name taken make the decision again. None when
        another worker decided it meanwhile (its decision stands: the carry-out reads it)."""
        for _ in range(5):
            try:
                with self.db.engine.begin() as session:
                    sub = _submission(session, submission_id)
                    if sub.status != "received":
                        return None
                    return self._write_plan(session, sub, self._plan_in(session, sub))
            except IntegrityError:
                log.info("submission %s: decision raced another; deciding again", submission_id)
            except _Raced:
                log.info("submission %s: a part or the decision was taken by another; deciding again", submission_id)
        raise RuntimeError(f"submission {submission_id}: no decision after 5 tries")

    def _plan_in(self, session: Connection, sub: _Sub, senders: dict[int, SenderInfo | None] | None = None) -> _Plan:
        """The decision: findings, ACRF name and channel, the parts it takes; reads only. ``senders``: the
        snapshots read for the batch so far."""
        if senders is None:
            sender = self.directory.of_submission(sub.sender_id)
        elif (sender := senders.get(sub.sender_id)) is None:
            sender = senders[sub.sender_id] = self.directory.of_submission(sub.sender_id)
        assert sender is not None
        files, superseded = self._files(session, sub)
        findings = self._findings(session, sub, sender, files)
        environment = sub.environment if sub.environment in ENVIRONMENTS else FOLDER_ENV.get(files.go.folder, "T")
        decision: dict[str, Any] = dict(
            errors=[f.as_json() for f in findings], accepted_base=None if findings else sub.base,
            acrf_name=str(BatchName("FO", ACKNOWLEDGEMENT, GATEWAY_SENDER, now().strftime("%Y%m%d"), new_sequence(),
                                    environment)),
            delivered_channel=self.returns.channel_for(sender, sub.application, sub.channel), status="decided")
        return _Plan(sender, [*files.all(), *files.refused], superseded, decision)

    def _write_plan(self, session: Connection, sub: _Sub, plan: _Plan) -> _Decided:
        """The decision written in the caller's transaction; returns what the carry-out needs (read once, kept)."""
        if plan.superseded and session.execute(_SUPERSEDE, {"ids": plan.superseded, "sid": sub.id}
                                               ).rowcount != len(plan.superseded):  # type: ignore[attr-defined]
            raise _Raced  # another submission took one of them meanwhile
        # the ACRF's channel held until this commits (FOR SHARE: its removal waits, then sees this decision and is
        # refused); one removed since the plan was read makes the decision again, on the channels left
        if plan.sender.channels and not _CHANNEL_HELD.rows(session, {
                "sender": sub.sender_id, "type": plan.decision["delivered_channel"]}):
            raise _Raced
        # read after that lock: a deletion or a block that held it (FOR UPDATE) has committed, and a plan worked out
        # on the sender as active is made again (it is answered SENDER_BLOCKED, not accepted into folders no login
        # reaches)
        if plan.sender.active and not _SENDER_ACTIVE.rows(session, {"sender": sub.sender_id}):
            raise _Raced
        _claim_parts(session, sub.id, plan.parts)
        decided = _DECIDE.run(session, {"sid": sub.id, **{f"new_{k}": v for k, v in plan.decision.items()}})
        if decided != 1:  # decided by another worker meanwhile (a lease that expired): its decision stands
            raise _Raced
        return _Decided(replace(sub, **plan.decision), sorted(plan.parts, key=lambda p: p.id), plan.sender)

    def _findings(self, session: Connection, sub: _Sub, sender: SenderInfo,
                  files: SubmissionFiles) -> list[Finding]:
        if files.go.status == "missing":  # the sweeper's stand-in: the GO never came
            return [Finding(ErrorCode.GO_MISSING, f.name, "no GO arrived") for f in files.data]
        if not sender.active:  # blocked after it logged in: nothing it sends from now on is taken
            return [Finding(ErrorCode.SENDER_BLOCKED, sub.go_name, "the sender was blocked")]
        if sub.created_at < utcnow() - self.give_up:
            return [Finding(ErrorCode.PROCESSING_FAILED, sub.go_name,
                            "processing kept failing" if sub.last_error else "not processed in time")]
        already = bool(_ALREADY.rows(session, {"sender": sub.sender_id, "base": sub.base, "sid": sub.id}))
        return check(CheckContext(sender, sub.channel, files, already, self.max_age_days, self.policy, now(),
                                  received_at=sub.created_at))

    def _files(self, session: Connection, sub: _Sub) -> tuple[SubmissionFiles, list[int]]:
        """The GO and its parts in one read: the parts before the GO, not taken by another submission; and the
        refused parts a resend replaced (to be marked superseded with the decision)."""
        rows = [_Part(**r) for r in _FILES_OF.rows(session, {
            "go": sub.go_file_id, "sender": sub.sender_id, "channel": sub.channel, "base": sub.base, "sid": sub.id})]
        go = rows.pop()  # the highest id
        assert go.id == sub.go_file_id
        files = SubmissionFiles(go)
        kept = {r.name for r in rows if r.status == "received"}
        superseded = []
        for row in rows:
            if row.status == "received":
                (files.data if row.kind == "FI" else files.signatures).append(row)
            elif row.name in kept:  # refused, then resent whole: the resend answers for the name
                superseded.append(row.id)
            else:
                files.refused.append(row)
        return files, superseded

    def _carry_out_many(self, taken: dict[int, _Taken], claiming: float,
                        outcomes: dict[int, bool | Exception]) -> None:
        """Each submission's ACRF delivered and parts moved (both idempotent), the folders they went into fsynced
        once for all, then their closes committed together. A failure fails its submission alone (its lease given
        back with a backoff), or, for a folder's fsync, every submission of the batch: none was closed."""
        placement, closing = Placement(), []
        for submission_id, one in taken.items():
            try:
                close = self._carry_out(submission_id, one.decided, placement)
            except Exception as exc:
                self._failed(submission_id, exc, outcomes)
            else:
                if close is not None:
                    closing.append((submission_id, close))
        closing = self._still_held(closing, placement, claiming)
        try:
            placement.finish()
        except Exception as exc:
            for submission_id, _ in closing:
                self._failed(submission_id, exc, outcomes)
            return
        # with the records and closes committing meanwhile: one commit for all of them
        committing = [(submission_id, close, self.records.submit(close.work)) for submission_id, close in closing]
        accepted = False
        for submission_id, close, future in committing:
            try:
                lines = future.result()
            except Exception as exc:
                self._failed(submission_id, exc, outcomes)
                continue
            for line in lines or ():  # None: another worker closed it while this one worked (an expired lease)
                self.translog.emit(line)
            accepted = accepted or (lines is not None and close.accepted)
        if accepted and self.on_event is not None:
            self.on_event()

    def _still_held(self, closing: list[tuple[int, _Closing]], placement: Placement,
                    claiming: float) -> list[tuple[int, _Closing]]:
        """A batch that ran late (a stalled disk): the submissions whose lease ran out meanwhile are left to the
        worker that took them over, their files not placed (else an ACRF the sender fetched and deleted meanwhile
        would come back). One read, only then, just before the files appear."""
        if not closing or time.monotonic() - claiming <= RECHECK_AFTER_S:
            return closing
        late = [sid for sid, _ in closing]
        lost = set(late) - self._still_ours(late)
        if lost:
            log.info("submissions %s: their leases ran out in a late batch; other workers answer them", sorted(lost))
            placement.drop(lost)
        return [(sid, close) for sid, close in closing if sid not in lost]

    def _failed(self, submission_id: int, exc: Exception, outcomes: dict[int, bool | Exception]) -> None:
        outcomes[submission_id] = exc
        try:
            self._release(submission_id, exc)
        except Exception:  # the database gone: its lease runs out instead; the batch's others go on
            log.exception("submission %s: its lease could not be given back", submission_id)

    def _carry_out(self, submission_id: int, decided: _Decided | None, placement: Placement) -> _Closing | None:
        """The ACRF written and the parts moved into ``placement`` (durable at its ``finish``); returns the close
        to commit after that: the submission's status, its event in the outbox in the same transaction that makes
        it accepted. No transaction is held during the side effects. ``decided``: what this worker's decision just
        committed; otherwise (decided before a stop) read again. None: nothing to close here."""
        taken = decided or self._decided(submission_id)
        if taken is None:
            log.info("submission %s: closed by another worker meanwhile", submission_id)
            return None
        sub, parts, sender = taken
        findings = [Finding.from_json(e) for e in sub.errors or []]
        delivery = self._deliver_acrf(sub, sender, parts, findings, placement)
        accepted = not findings
        target = (self.spool.application_folder(sub.application, sub.environment, sub.ticket) if accepted
                  else self.spool.rejected_folder(sender.number, sub.ticket))
        pending = [p for p in parts if p.path and p.status != "submitted"]
        sources = [Path(p.path) for p in pending]
        for p in parts:
            p.status = "refused" if p.status == "refused" else "submitted"
        manifest = _manifest(sub, sender, parts)
        written = [("manifest.json", json.dumps(manifest, indent=2).encode())]
        # the parts moved and the manifest written into the folder (both idempotent), fsynced with the batch's
        for p, moved in zip(pending, placement.move(target, sources, written, sub.id), strict=True):
            p.path = str(moved)
        status = "accepted" if accepted else "rejected"

        def close(session: Connection) -> tuple[dict[str, Any], dict[str, Any]] | None:
            closed = _CLOSE.run(session, {"sid": sub.id, "new_status": status, "at": utcnow()})
            if closed != 1:  # another worker closed it while this one worked (an expired lease): nothing more
                return None
            delivered = self.translog.add(session, "delivery", "ok", **delivery)  # logged with the close
            # with the batch's others, at its end (PostgreSQL): nothing in the batch reads these rows back
            write_rows(session, _MOVED, [{"part_id": p.id, "new_path": p.path, "new_status": p.status} for p in parts])
            if accepted:
                insert_row(session, _OUTBOX, dict(
                    routing_key=f"submission.accepted.{sub.application}.{sub.environment}", message_id=sub.ticket,
                    body=manifest | {"folder": str(target)}))
            line = self.translog.add(session, "submission", status, protocol=sub.protocol or sub.channel,
                                     sender_number=sender.number, technical_user=sender.technical_user,
                                     file_name=sub.go_name, application=sub.application,
                                     environment=sub.environment, error_code=findings[0].code if findings else None,
                                     ticket=sub.ticket, errors=sub.errors or None, acrf=sub.acrf_name,
                                     delivered_on=sub.delivered_channel,
                                     latency_s=(utcnow() - sub.created_at).total_seconds())
            return delivered, line

        return _Closing(close, accepted)

    def _still_ours(self, submission_ids: list[int]) -> set[int]:
        """Those still decided and leased by this worker."""
        with self.db.read() as session:
            return set(session.scalars(select(Submission.id).where(
                Submission.id.in_(submission_ids), Submission.status == "decided",
                Submission.lease_owner == self.owner, Submission.lease_until > utcnow())))

    def _decided(self, submission_id: int) -> _Decided | None:
        """A decision committed earlier, read again; None when another worker closed the submission since this one
        claimed it (the claimant whose lease ran out finished after all)."""
        with self.db.read() as session:
            sub = _submission(session, submission_id)
            if sub.status != "decided":
                return None
            assert sub.acrf_name and sub.delivered_channel
            parts = [_Part(**r._mapping) for r in session.execute(select(*_PART_COLUMNS).where(
                ReceivedFile.submission_id == sub.id).order_by(ReceivedFile.id))]
        sender = self.directory.of_submission(sub.sender_id)
        assert sender is not None
        return _Decided(sub, parts, sender)

    def _deliver_acrf(self, sub: _Sub, sender: SenderInfo, parts: list[_Part], findings: list[Finding],
                      placement: Placement) -> dict:
        """The ACRF written (idempotent: the same name each time); returns its delivery's log fields."""
        go = next(p for p in parts if p.id == sub.go_file_id)
        summaries = [PartSummary(p.name, p.size, p.sha256 or "") for p in parts
                     if p.kind == "FI" and p.status != "refused"]  # a refused part was never kept
        document = acrf.document(sub.go_name, sub.ticket, findings, go.received_at, summaries, sender.language)
        acrf_name = parse(sub.acrf_name or "")
        return self.returns.deliver(sender, ACKNOWLEDGEMENT, acrf_name.environment, document,
                                    sub.delivered_channel or sub.channel, application=sub.application,
                                    name=acrf_name, logged=False, placement=placement, whose=sub.id).log_fields

    def cancel(self, s: GatewaySession, td: BatchName) -> None:
        """TD: the parts of a submission not yet processed go to the cancelled folder; only those of the TD's own
        channel home (another channel's files are not this session's to cancel), whatever their folder (a part
        put in the wrong folder by mistake is cleared as the GO would take it)."""
        with self.db.session() as session:
            # locked until this commits (PostgreSQL; SQLite's write turn does it there): a decision claiming them
            # meanwhile waits, then finds them cancelled and is made again; one claimed first drops them from here
            rows = session.scalars(select(ReceivedFile).where(  # parts a decided submission took are past cancelling
                ReceivedFile.sender_id == s.sender.id, ReceivedFile.channel == s.channel, ReceivedFile.base == td.base,
                ReceivedFile.status == "received", ReceivedFile.submission_id.is_(None)).with_for_update()).all()
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
        """Parts left waiting longer than ``wait`` with no GO: one rejecting ACRF (ACRF-130) per submission name.

        A stand-in GO row (status ``missing``) carries the submission through the same decide/deliver path. Its
        parts are claimed in the same transaction, so two instances sweeping at once open one submission.
        """
        cutoff = utcnow() - wait
        with self.db.session() as session:
            waiting = session.scalars(select(ReceivedFile).where(
                ReceivedFile.status == "received", ReceivedFile.kind.in_(("FI", "FS")),
                ReceivedFile.submission_id.is_(None), ReceivedFile.received_at < cutoff).order_by(ReceivedFile.id))
            groups: dict[tuple[int, str, str], ReceivedFile] = {}  # a submission name per channel home
            for row in waiting:
                groups.setdefault((row.sender_id, row.channel, row.base), row)
            opened = [sid for row in groups.values() if (sid := self._stand_in(session, row)) is not None]
        for submission_id in opened:
            self.schedule(submission_id)
        return len(opened)

    def _stand_in(self, session: Session, row: ReceivedFile) -> int | None:
        if session.scalar(select(Submission.id).where(  # its GO came: that submission answers for the parts
                Submission.sender_id == row.sender_id, Submission.channel == row.channel, Submission.base == row.base,
                Submission.status.in_(PENDING))) is not None:
            return None
        name = parse(row.name).closing_go()
        savepoint = session.begin_nested()
        go = ReceivedFile(sender_id=row.sender_id, channel=row.channel, folder=row.folder, name=str(name),
                          kind="GO", base=name.base, total=name.total, path="", status="missing")
        session.add(go)
        session.flush()
        submission = Submission(sender_id=row.sender_id, go_file_id=go.id, base=name.base, go_name=go.name,
                                channel=row.channel, application=name.application,
                                environment=name.environment, ticket=new_ticket())
        session.add(submission)
        session.flush()
        taken = session.execute(update(ReceivedFile).where(
            ReceivedFile.sender_id == row.sender_id, ReceivedFile.channel == row.channel, ReceivedFile.base == row.base,
            ReceivedFile.status == "received", ReceivedFile.kind.in_(("FI", "FS")),
            ReceivedFile.submission_id.is_(None), ReceivedFile.id < go.id,
        ).values(submission_id=submission.id)).rowcount  # type: ignore[attr-defined]
        if taken == 0:  # another sweeper took them first
            savepoint.rollback()
            return None
        savepoint.commit()
        return submission.id

    def release_own_leases(self) -> None:
        """At start: leases this instance held before a crash are free at once (nothing of ours is running)."""
        with self.db.session() as session:
            session.execute(update(Submission).where(Submission.lease_owner == self.owner,
                                                     Submission.status.in_(PENDING)).values(lease_until=None))

    def due(self, limit: int = 200) -> list[int]:
        """Submissions whose lease is free and whose retry is due: new, interrupted, or failed earlier (oldest
        first). A plain read: claiming is what settles who takes one."""
        now = utcnow()
        with self.db.read() as session:
            return list(session.scalars(select(Submission.id).where(*_due(now)).order_by(Submission.id).limit(limit)))

    def recover(self) -> int:
        """Schedule every due submission (at start, and from the lease loop every few seconds)."""
        due = self.due()
        for submission_id in due:
            self.schedule(submission_id)
        return len(due)

    def share(self) -> int:
        """When this worker's intake threads are free, take the oldest submissions another worker received but
        has not started yet (its sessions keep its interpreter busy): their lease is free until a thread claims it,
        and the claim settles who processes each, once."""
        with self._queued_lock:
            mine = set(self._queued)
        free = INTAKE_SLOTS - len(mine)
        if free <= 0:
            return 0
        taken = [i for i in self.due(limit=free + len(mine)) if i not in mine][:free]
        for submission_id in taken:
            self.schedule(submission_id)
        return len(taken)

    def start(self, every_s: float = 2.0, share_s: float | None = None) -> None:
        """The lease loop: expired leases and due retries are taken up within seconds, on any instance. With
        ``share_s`` (the workers of one instance) an idle worker also looks that often for its siblings' backlog."""
        if self._loop is None:
            self._loop = threading.Thread(target=self._lease_loop, args=(every_s, share_s), name="lease-loop",
                                          daemon=True)
            self._loop.start()

    def _lease_loop(self, every_s: float, share_s: float | None) -> None:
        next_full = time.monotonic() + every_s
        while not self._stopping.wait(share_s or every_s):
            try:
                if time.monotonic() >= next_full:
                    next_full = time.monotonic() + every_s
                    self.recover()
                elif share_s:
                    self.share()
            except Exception:
                log.exception("lease loop")

    def close(self) -> None:
        self._stopping.set()
        if self._loop is not None:
            self._loop.join(timeout=10)
        with self._wake:  # what is queued is carried out first
            self._closing = True
            self._wake.notify_all()
        for thread in self._intake:
            thread.join(timeout=60)
        self.records.close()


@dataclass(slots=True)
class _Sub:
    """A submission's columns the pipeline reads, as plain values: no ORM object, identity map or attribute
    events on the path every submission takes (the writes are Core UPDATEs)."""

    id: int
    sender_id: int
    go_file_id: int
    base: str
    go_name: str
    channel: str
    protocol: str | None
    application: str
    environment: str
    ticket: str
    status: str
    errors: list[dict[str, Any]] | None
    accepted_base: str | None
    acrf_name: str | None
    last_error: str | None
    delivered_channel: str | None
    created_at: datetime


@dataclass(slots=True)
class _Part:
    """A received file's columns the checks and the carry-out read; path and status change as it is moved."""

    id: int
    name: str
    kind: str
    folder: str
    total: int | None
    part: int | None
    path: str
    size: int
    sha256: str | None
    status: str
    error_code: str | None
    received_at: datetime


def _due(now: Any, submissions: Any = Submission) -> tuple[ColumnElement[bool], ...]:
    """Pending, its lease free (never taken, or expired) and its retry due: what a worker may claim. On the ORM
    class, or on the table's columns with ``now`` a bind parameter (the claim, built once)."""
    # equalities, not IN: a literal IN list is an "expanding" parameter, which the raw claim cannot bind
    return (or_(*(submissions.status == status for status in PENDING)), *claimable(submissions, now))


# The statements every submission runs, built once on the tables (not the ORM classes); the hottest run straight on
# the DBAPI cursor (store/rawsql.py). Bind names may not be column names in an UPDATE's SET.
_FILES, _SUBS = ReceivedFile.__table__.c, Submission.__table__.c
_SUB_COLUMNS = tuple(_SUBS[f.name] for f in fields(_Sub))
_PART_COLUMNS = tuple(_FILES[f.name] for f in fields(_Part))
_NEW_FILE = RawInsert(ReceivedFile.__table__)
_NEW_GO = RawInsert(ReceivedFile.__table__, returning="id")
_NEW_SUBMISSION = RawInsert(Submission.__table__, returning="id")
_OUTBOX = RawInsert(OutboxEvent.__table__)
_CLAIM = RawStatement(update(Submission.__table__).where(
    _SUBS.id == bindparam("sid"), *_due(bindparam("now", type_=_SUBS.lease_until.type), _SUBS),
).values(lease_owner=bindparam("owner"), lease_until=bindparam("until", type_=_SUBS.lease_until.type),
         attempts=_SUBS.attempts + 1).returning(*_SUB_COLUMNS), _SUB_COLUMNS)
_FILES_OF = RawStatement(select(*_PART_COLUMNS).where(or_(  # the GO, and the parts before it not another's
    _FILES.id == bindparam("go"),  # in the GO's own channel home: each channel's files are its own (contract 3)
    and_(_FILES.sender_id == bindparam("sender"), _FILES.channel == bindparam("channel"),
         _FILES.base == bindparam("base"), _FILES.id < bindparam("go"),
         or_(_FILES.status == "received", _FILES.status == "refused"), or_(_FILES.kind == "FI", _FILES.kind == "FS"),
         or_(_FILES.submission_id.is_(None), _FILES.submission_id == bindparam("sid"))))).order_by(_FILES.id),
    _PART_COLUMNS)
_ALREADY = RawStatement(select(_SUBS.id).where(
    _SUBS.sender_id == bindparam("sender"), _SUBS.accepted_base == bindparam("base"), _SUBS.id != bindparam("sid")
).limit(1), [_SUBS.id])
_UNDECIDED = RawStatement(select(*_SUB_COLUMNS).where(  # worth deciding: undecided and claimable now
    _SUBS.id == bindparam("sid"), _SUBS.status == "received",  # (no other worker's lease)
    *claimable(_SUBS, bindparam("now", type_=_SUBS.lease_until.type))), _SUB_COLUMNS)
_SUPERSEDE = update(ReceivedFile.__table__).where(  # refused parts a resend replaced, if no other submission's
    _FILES.id.in_(bindparam("ids", expanding=True)), _FILES.status == "refused",
    or_(_FILES.submission_id.is_(None), _FILES.submission_id == bindparam("sid")),
).values(status="superseded")
_CLAIM_PARTS = update(ReceivedFile.__table__).where(  # a part or GO cancelled (TD) since it was read is not taken
    _FILES.id.in_(bindparam("ids", expanding=True)),
    or_(_FILES.status != "cancelled", _FILES.kind == bindparam("cancelled_kind")),
    or_(_FILES.submission_id.is_(None), _FILES.submission_id == bindparam("sid")),
).values(submission_id=bindparam("sid"))
_CHANNELS = SenderChannel.__table__.c
_SENDERS = Sender.__table__.c
_CHANNEL_HELD = RawStatement(select(_CHANNELS.id).where(
    _CHANNELS.sender_id == bindparam("sender"), _CHANNELS.type == bindparam("type")).with_for_update(read=True),
    [_CHANNELS.id])
_SENDER_ACTIVE = RawStatement(select(_SENDERS.id).where(
    _SENDERS.id == bindparam("sender"), _SENDERS.status == "active", _SENDERS.technical_user_status == "active"),
    [_SENDERS.id])
_DECIDE = RawStatement(update(Submission.__table__).where(_SUBS.id == bindparam("sid"), _SUBS.status == "received"
                                                          ).values(
    {name: bindparam(f"new_{name}", type_=_SUBS[name].type)
     for name in ("errors", "accepted_base", "acrf_name", "delivered_channel", "status")}))
_CLOSE = RawStatement(update(Submission.__table__).where(_SUBS.id == bindparam("sid"), _SUBS.status == "decided"
                                                         ).values(
    status=bindparam("new_status"), processed_at=bindparam("at", type_=_SUBS.processed_at.type),
    lease_owner=None, lease_until=None))
_MOVED = RawStatement(update(ReceivedFile.__table__).where(_FILES.id == bindparam("part_id")).values(  # executemany
    path=bindparam("new_path"), status=bindparam("new_status")))


def _submission(session: Session | Connection, submission_id: int) -> _Sub:
    row = session.execute(select(*_SUB_COLUMNS).where(Submission.id == submission_id)).one()
    return _Sub(**row._mapping)


def _claim_parts(session: Connection, submission_id: int, parts: list[_Part]) -> None:
    """Every part (and the GO) becomes this submission's, unless another submission took one first or a TD
    cancelled one since it was read (its file moved away): then the decision is made again. A GO read as
    cancelled (its TD came before the decision) is still taken: its submission answers for it."""
    go_cancelled = any(p.kind == "GO" and p.status == "cancelled" for p in parts)
    taken = session.execute(_CLAIM_PARTS, {"ids": [p.id for p in parts], "sid": submission_id,
                                           "cancelled_kind": "GO" if go_cancelled else ""}
                            ).rowcount  # type: ignore[attr-defined]
    if taken != len(parts):
        raise _Raced


class _Decided(NamedTuple):
    """A decided submission, its parts (by id) and its sender's snapshot."""

    sub: _Sub
    parts: list[_Part]
    sender: SenderInfo


class _Plan(NamedTuple):
    """A decision worked out on a read, before it is written."""

    sender: SenderInfo
    parts: list[_Part]  # the GO, the parts it takes and the refused ones it answers for
    superseded: list[int]  # refused parts a resend replaced
    decision: dict[str, Any]


class _Closing(NamedTuple):
    """A carried-out submission's close, to commit once its files are durable; returns its log lines."""

    work: Callable[[Connection], tuple[dict[str, Any], dict[str, Any]] | None]
    accepted: bool


class _Taken(NamedTuple):
    decided: _Decided | None  # None: decided before (a stop or a failure after the decision): read it again


class _Raced(Exception):
    """Another worker got there first (a part claimed by another submission, or this one decided): decide
    again."""


def _manifest(sub: _Sub, sender: SenderInfo, parts: list[_Part]) -> dict:
    return {"ticket": sub.ticket, "result": "accepted" if not sub.errors else "rejected",
            "sender_number": sender.number, "application": sub.application, "environment": sub.environment,
            "channel": sub.channel, "go": sub.go_name, "errors": sub.errors or [],
            "files": [{"name": p.name, "kind": p.kind, "size": p.size, "sha256": p.sha256} for p in parts
                      if p.status != "refused"],
            "received_at": sub.created_at.isoformat()}
