"""Two workers of one instance (the harness's pipeline and a sibling's, on the same database and spool) race on the
same submissions at the same time, and the sender still sees each one answered once: one ACRF under the decided
name, one 'submission' row in the transfer log, its parts in one folder, one outbox event for an acceptance."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from gateway.pipeline import IntakePipeline
from kernel.clock import utcnow
from store.database import Database
from store.models import OutboxEvent, ReceivedFile, Submission, TransferEvent
from tests.gateway.harness import GatewayHarness, SenderKit, build, put, sftp_call, wait_submission
from tests.gateway.harness import Submission as Files
from tests.gateway.test_workers_share import sibling  # noqa: F401 (the fixture)

SUBMISSIONS = 20
THREADS = 4  # per pipeline, as many as its intake threads
CHANNELS = ("SFTP", "FTP", "WS")
RETURN_FOLDERS = ("OUT", "OUTTEST", "OUTTEST-S")


# -- set-up and what the sender sees ------------------------------------------------------------------------------
def received_backlog(harness: GatewayHarness, kit: SenderKit, db: Database, monkeypatch: pytest.MonkeyPatch,
                     count: int = SUBMISSIONS) -> tuple[list[Files], list[int]]:
    """``count`` signed submissions uploaded over SFTP in one session, left in the harness worker's backlog (its
    intake threads busy: nothing scheduled, its lease loop schedules nothing either). Their ids, oldest first."""
    monkeypatch.setattr(harness.gateway.pipeline, "schedule", lambda _id: None)
    subs = [build(kit, seq=f"{i:05d}") for i in range(1, count + 1)]
    assert put(harness.port, kit, Files([f for sub in subs for f in sub.files])) == []
    with db.read() as session:
        rows = {go: (sid, status) for sid, go, status in session.execute(
            select(Submission.id, Submission.go_name, Submission.status))}
    assert sorted(rows) == sorted(sub.go for sub in subs)
    assert {status for _, status in rows.values()} == {"received"}, "nothing started before the race"
    return subs, [rows[sub.go][0] for sub in subs]


def tree(root: Path) -> dict[str, list[Path]]:
    """Every file under ``root`` by name (temporary dot files left out)."""
    found: dict[str, list[Path]] = defaultdict(list)
    for folder, _, names in os.walk(root):
        for name in names:
            if not name.startswith("."):
                found[name].append(Path(folder) / name)
    return found


def assert_answered_once(harness: GatewayHarness, kit: SenderKit, db: Database, subs: list[Files]) -> None:
    """What the sender (and the application behind the bus) can notice, for every submission."""
    spool = harness.gateway.spool
    with db.read() as session:
        rows = {r.go_name: r for r in session.scalars(select(Submission))}
        closed = Counter(session.execute(select(TransferEvent.file_name, TransferEvent.result).where(
            TransferEvent.event == "submission")).all())
        events = Counter(session.scalars(select(OutboxEvent.message_id)))
        parts = {(r.name, r.submission_id, r.status) for r in session.scalars(select(ReceivedFile))}
    assert len(rows) == len(subs), "one submission per GO"
    assert {r.status for r in rows.values()} == {"accepted"}, [(r.go_name, r.status, r.errors) for r in rows.values()]

    # one ACRF per submission, under the name its decision committed, and no second one anywhere
    returned = [p for channel in CHANNELS for folder in RETURN_FOLDERS
                for p in (harness.home(kit, channel) / folder).glob("*.ACRF.*")]
    decided = {r.acrf_name for r in rows.values()}
    assert len(decided) == len(subs)
    assert sorted(p.name for p in returned if p.name.startswith(("FO.", "CO."))) == sorted(decided)
    assert sorted(p.name[3:] for p in returned if p.name.startswith("GO.")) == sorted(n[3:] for n in decided)
    assert {p.parent for p in returned} == {harness.home(kit, "SFTP") / "OUTTEST"}  # DMFA's preferred channel

    # one closing row in the transfer log, one event for the application
    assert closed == Counter({(sub.go, "accepted"): 1 for sub in subs})
    assert events == Counter({r.ticket: 1 for r in rows.values()})

    # every part (and the GO) in its submission's application folder, and nowhere else
    files = tree(spool.root.parent)
    for sub in subs:
        row = rows[sub.go]
        target = spool.application_folder("DMFA", "T", row.ticket)
        for _, name, _ in sub.files:
            assert files[name] == [target / name], (name, files[name])
            assert (name, row.id, "submitted") in parts
        assert files["manifest.json"].count(target / "manifest.json") == 1


def processed_once(wins: dict[str, list[int]], ids: list[int]) -> None:
    """Each submission carried out by exactly one of the workers (``process`` returned True once)."""
    assert Counter(sid for won in wins.values() for sid in won) == Counter(ids), dict(wins)


def record_wins(pipeline: IntakePipeline, name: str, wins: dict[str, list[int]],
                monkeypatch: pytest.MonkeyPatch) -> None:
    """Submissions carried out, counted wherever they are processed from (a test thread's ``process``, the
    pipeline's own intake threads' batches)."""
    real = pipeline.process_many
    lock = threading.Lock()

    def counted(submission_ids: list[int]) -> dict:
        outcomes = real(submission_ids)
        with lock:
            wins[name].extend(sid for sid, done in outcomes.items() if done is True)
        return outcomes

    monkeypatch.setattr(pipeline, "process_many", counted)


def run_all(targets: list[Callable[[], None]], timeout: float = 90) -> list[BaseException]:
    """Run each target on its own thread; joined within ``timeout``; the exceptions they raised."""
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(t,), daemon=True) for t in targets]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(deadline - time.monotonic(), 0.1))
    assert not any(t.is_alive() for t in threads), f"threads still running after {timeout}s"
    return errors


def wait_idle(*pipelines: IntakePipeline, timeout: float = 30) -> None:
    """Nothing scheduled is still running on the pipelines' intake threads."""
    deadline = time.monotonic() + timeout
    while any(p._queued for p in pipelines):
        assert time.monotonic() < deadline, "intake threads still busy"
        time.sleep(0.02)


# -- 1. both workers process every submission at once ---------------------------------------------------------------
def test_two_workers_processing_the_same_submissions_at_once_answer_each_once(harness, kit, db, sibling,  # noqa: F811
                                                                            monkeypatch):  # type: ignore[no-untyped-def]
    subs, ids = received_backlog(harness, kit, db, monkeypatch)
    pipelines = {"owner": harness.gateway.pipeline, "sibling": sibling.pipeline}
    # both read each submission as undecided before either claims it: the decision raced, the claim settles it
    meet = {sid: threading.Barrier(2, timeout=20) for sid in ids}
    planned: dict[str, list[int]] = defaultdict(list)
    broken: list[int] = []

    def rendezvous(name: str, pipeline: IntakePipeline) -> None:
        real = pipeline._plan

        def plan(submission_id: int, *reading):  # type: ignore[no-untyped-def]
            made = real(submission_id, *reading)
            if made is not None:
                planned[name].append(submission_id)
            try:
                meet[submission_id].wait()
            except threading.BrokenBarrierError:
                broken.append(submission_id)
            return made

        monkeypatch.setattr(pipeline, "_plan", plan)

    wins: dict[str, list[int]] = defaultdict(list)
    for name, pipeline in pipelines.items():
        rendezvous(name, pipeline)
        record_wins(pipeline, name, wins, monkeypatch)
    start = threading.Barrier(2 * THREADS, timeout=20)

    def worker(pipeline: IntakePipeline, share: list[int]) -> Callable[[], None]:
        def work() -> None:
            start.wait()
            for sid in share:
                pipeline.process(sid)
        return work

    errors = run_all([worker(p, ids[k::THREADS]) for p in pipelines.values() for k in range(THREADS)])

    assert errors == [] and broken == []
    assert sorted(planned["owner"]) == sorted(planned["sibling"]) == sorted(ids), "the race did not happen"
    processed_once(wins, ids)
    assert wins["owner"] and wins["sibling"], dict(wins)  # each won some claims: both really worked
    assert_answered_once(harness, kit, db, subs)


# -- 2. both share() at once while the owner processes its backlog -------------------------------------------------
def test_workers_sharing_a_backlog_its_owner_is_processing_answer_each_once(harness, kit, db, sibling,  # noqa: F811
                                                                          monkeypatch):  # type: ignore[no-untyped-def]
    subs, ids = received_backlog(harness, kit, db, monkeypatch)
    owner = harness.gateway.pipeline
    monkeypatch.delattr(owner, "schedule")  # its intake threads are free again: its share() schedules on them
    wins: dict[str, list[int]] = defaultdict(list)
    record_wins(owner, "owner", wins, monkeypatch)
    record_wins(sibling.pipeline, "sibling", wins, monkeypatch)
    start = threading.Barrier(2 + THREADS, timeout=20)
    done = threading.Event()
    shared: Counter[str] = Counter()

    def share(name: str, pipeline: IntakePipeline) -> Callable[[], None]:
        def loop() -> None:  # an idle worker's share loop, faster than the real 200 ms to press the race
            start.wait()
            deadline = time.monotonic() + 60
            while not done.is_set() and time.monotonic() < deadline:
                shared[name] += pipeline.share()
                time.sleep(0.005)
        return loop

    def owner_thread(share_of: list[int]) -> Callable[[], None]:
        def work() -> None:  # the owner works through its backlog newest first while the siblings take the oldest
            start.wait()
            for sid in share_of:
                owner.process(sid)
        return work

    newest_first = ids[::-1]

    def settle() -> None:
        try:
            for sub in subs:
                wait_submission(db, sub.go, timeout=60)
        finally:
            done.set()

    errors = run_all([share("owner", owner), share("sibling", sibling.pipeline),
                      *(owner_thread(newest_first[k::THREADS]) for k in range(THREADS)), settle])
    wait_idle(owner, sibling.pipeline)

    assert errors == []
    assert shared["sibling"] > 0, "the sibling took part of the backlog"
    processed_once(wins, ids)
    assert wins["owner"] and wins["sibling"], dict(wins)
    assert_answered_once(harness, kit, db, subs)


# -- 3. a lease that expires while its holder carries the submission out ------------------------------------------
def expire_lease(db: Database, submission_id: int) -> None:
    """The holder stalled past its lease (a GC pause, a slow disk): another worker may claim it now."""
    with db.session() as session:
        session.execute(update(Submission).where(Submission.id == submission_id).values(
            lease_until=utcnow() - timedelta(seconds=1)))


@pytest.mark.parametrize("sibling_first", [True, False], ids=["sibling-done-first", "both-at-once"])
def test_a_lease_expiring_during_the_carry_out_still_answers_once(harness, kit, db, sibling, monkeypatch,  # noqa: F811
                                                                  sibling_first):  # type: ignore[no-untyped-def]
    subs, ids = received_backlog(harness, kit, db, monkeypatch, count=10)
    owner = harness.gateway.pipeline
    carry_out = owner._carry_out
    taken_over: list[bool] = []
    errors: list[BaseException] = []

    def stalled(submission_id: int, decided, placement):  # type: ignore[no-untyped-def]
        """Decided and leased by the owner, nothing delivered yet: its lease runs out and the sibling claims it."""
        expire_lease(db, submission_id)
        if sibling_first:
            taken_over.append(sibling.pipeline.process(submission_id))
            return carry_out(submission_id, decided, placement)
        meet = threading.Barrier(2, timeout=20)

        def take_over() -> None:
            try:
                meet.wait()
                taken_over.append(sibling.pipeline.process(submission_id))
            except Exception as exc:
                errors.append(exc)

        other = threading.Thread(target=take_over, daemon=True)
        other.start()
        meet.wait()
        try:
            return carry_out(submission_id, decided, placement)
        finally:
            other.join(30)
            assert not other.is_alive()

    monkeypatch.setattr(owner, "_carry_out", stalled)
    for sid in ids:
        try:
            owner.process(sid)
        except Exception as exc:  # its carry-out raced the sibling's
            errors.append(exc)
    monkeypatch.delattr(owner, "schedule")  # a worker that failed in the race left it to the retry (lease loop)
    for sub in subs:
        wait_submission(db, sub.go, timeout=30)
    wait_idle(owner, sibling.pipeline)

    if sibling_first:
        assert taken_over == [True] * len(ids), "the sibling claimed every expired lease"
        assert errors == []
    else:  # a part the other worker moved first is found where it went: neither carry-out fails
        assert any(taken_over), taken_over
        assert errors == []
    assert_answered_once(harness, kit, db, subs)


def test_a_late_carry_out_logs_no_second_delivery(harness, kit, db, sibling, monkeypatch):  # type: ignore[no-untyped-def] # noqa: F811
    """The holder whose lease expired rewrites the same ACRF after the sibling closed the submission; the
    transfer log (what ops and the sender's support read) still shows that ACRF delivered once."""
    _, ids = received_backlog(harness, kit, db, monkeypatch, count=3)
    owner = harness.gateway.pipeline
    carry_out = owner._carry_out

    def stalled(submission_id: int, decided, placement):  # type: ignore[no-untyped-def]
        expire_lease(db, submission_id)
        assert sibling.pipeline.process(submission_id)
        return carry_out(submission_id, decided, placement)

    monkeypatch.setattr(owner, "_carry_out", stalled)
    for sid in ids:
        assert owner.process(sid)
    with db.read() as session:
        delivered = Counter(session.scalars(select(TransferEvent.file_name).where(TransferEvent.event == "delivery")))
        acrfs = {r.acrf_name for r in session.scalars(select(Submission))}
    assert delivered == Counter({name: 1 for name in acrfs})


def test_an_acrf_fetched_before_a_late_carry_out_does_not_come_back(harness, kit, db, sibling,  # noqa: F811
                                                                   monkeypatch):  # type: ignore[no-untyped-def]
    """The sibling answers the submission whose holder stalled past its lease; the sender fetches the ACRF and
    deletes it (as it may, in OUT*); the holder then resumes. The sender must not find that ACRF again."""
    _, ids = received_backlog(harness, kit, db, monkeypatch, count=3)
    owner = harness.gateway.pipeline
    carry_out = owner._carry_out
    fetched: list[str] = []

    async def fetch_and_delete(sftp) -> None:  # type: ignore[no-untyped-def]
        for name in sorted(await sftp.listdir("/OUTTEST")):
            if ".ACRF." in name:
                fetched.append(name)
                await sftp.remove(f"/OUTTEST/{name}")

    def stalled(submission_id: int, decided, placement):  # type: ignore[no-untyped-def]
        expire_lease(db, submission_id)
        assert sibling.pipeline.process(submission_id)
        sftp_call(harness.port, kit, fetch_and_delete)
        return carry_out(submission_id, decided, placement)

    monkeypatch.setattr(owner, "_carry_out", stalled)
    monkeypatch.setattr("gateway.pipeline.RECHECK_AFTER_S", 0)  # the stall stands for a lease's minute
    for sid in ids:
        assert owner.process(sid)
    sftp_call(harness.port, kit, fetch_and_delete)  # the sender's next poll
    with db.read() as session:
        acrfs = {r.acrf_name for r in session.scalars(select(Submission))}
    assert len(acrfs) == len(ids)
    assert Counter(n for n in fetched if n.startswith("FO.")) == Counter({n: 1 for n in acrfs}), "fetched twice"
