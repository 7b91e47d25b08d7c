"""The intake carries out the submissions waiting at one moment together (one commit for their claims, one fsync
per folder, one commit for their closes): each still gets its own answer, exactly once, and one that fails fails
alone or, where the batch's shared step fails, every one is retried and none is lost."""

from __future__ import annotations

import copy
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from gateway.core import spool
from gateway.pipeline import IntakePipeline
from kernel.clock import utcnow
from store.models import OutboxEvent, Submission
from tests.gateway.harness import build
from tests.gateway.test_pipeline_decisions import applications, intake  # noqa: F401 (the fixture)

COUNT = 5


def sent(intake, count: int = COUNT, bad: set[int] = frozenset()) -> list[int]:  # noqa: F811
    """``count`` submissions received and waiting; those in ``bad`` signed by nobody (rejected)."""
    ids = [intake.send(build(intake.kit, seq=f"0000{i + 1}", sign=i not in bad)) for i in range(count)]
    assert all(ids)
    return ids


def statuses(intake, ids: list[int]) -> list[str]:  # noqa: F811
    return [intake.row(i).status for i in ids]


def _due_now(db) -> None:  # type: ignore[no-untyped-def]
    with db.session() as session:
        session.execute(update(Submission).values(next_attempt_at=None))


def test_a_batch_answers_each_submission_once_with_its_own_result(intake):  # noqa: F811
    ids = sent(intake, bad={2})
    assert intake.pipeline.process_many(ids) == dict.fromkeys(ids, True)

    assert statuses(intake, ids) == ["accepted", "accepted", "rejected", "accepted", "accepted"]
    acrfs = intake.acrfs()
    assert len(acrfs) == COUNT and len({intake.row(i).acrf_name for i in ids}) == COUNT
    assert intake.waiting() == [], "every part moved out of INTEST"
    for i in ids:
        row = intake.row(i)
        folder = applications(intake) / "DMFA" / "T" / row.ticket
        assert folder.is_dir() == (row.status == "accepted")
    assert [e.file_name for e in intake.log("submission")] == [intake.row(i).go_name for i in ids]
    with intake.db.read() as session:
        events = sorted(session.scalars(select(OutboxEvent.message_id)))
    assert events == sorted(intake.row(i).ticket for i in ids if i != ids[2])
    assert intake.pipeline.process_many(ids) == dict.fromkeys(ids, False), "nothing is carried out twice"


def second_delivery_fails(intake, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """The second ACRF of what follows cannot be written (a disk error)."""
    deliver, calls = intake.gateway.returns.deliver, []

    def second_fails(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk unavailable")
        return deliver(*args, **kwargs)

    monkeypatch.setattr(intake.gateway.returns, "deliver", second_fails)


def test_one_failing_submission_of_a_batch_is_retried_alone(intake, monkeypatch):  # noqa: F811
    second_delivery_fails(intake, monkeypatch)
    ids = sent(intake)
    outcomes = intake.pipeline.process_many(ids)
    assert isinstance(outcomes[ids[1]], OSError)
    assert {sid: done for sid, done in outcomes.items() if sid != ids[1]} == dict.fromkeys(
        [i for i in ids if i != ids[1]], True)
    failed = intake.row(ids[1])
    assert (failed.status, failed.lease_until) == ("decided", None) and "disk unavailable" in failed.last_error
    assert statuses(intake, ids).count("accepted") == COUNT - 1

    _due_now(intake.db)
    assert intake.pipeline.process(ids[1]) is True
    assert statuses(intake, ids) == ["accepted"] * COUNT and len(intake.acrfs()) == COUNT


def test_a_batch_whose_folders_cannot_be_fsynced_closes_nothing_and_loses_nothing(intake, monkeypatch):  # noqa: F811
    """Every submission of the batch had its ACRF and parts placed when the shared fsync failed: none is closed
    (no answer was promised), the parts still have their names in INTEST, and the retry answers each once."""
    ids = sent(intake)
    finish = spool.Placement.finish
    failures = iter([OSError("I/O error")])

    def failing(self) -> None:  # type: ignore[no-untyped-def]
        if (err := next(failures, None)) is not None:
            raise err
        finish(self)

    monkeypatch.setattr(spool.Placement, "finish", failing)
    outcomes = intake.pipeline.process_many(ids)
    assert all(isinstance(outcomes[i], OSError) for i in ids)
    assert statuses(intake, ids) == ["decided"] * COUNT
    assert len(intake.waiting()) == 3 * COUNT, "no part lost its name in INTEST"

    _due_now(intake.db)
    assert intake.pipeline.process_many(ids) == dict.fromkeys(ids, True)
    assert statuses(intake, ids) == ["accepted"] * COUNT
    assert len(intake.acrfs()) == COUNT and intake.waiting() == []
    assert len(intake.log("delivery")) == COUNT, "each ACRF logged once"


def test_scheduled_submissions_are_all_carried_out_by_the_intake_threads(intake, monkeypatch):  # noqa: F811
    """Scheduled faster than one thread carries them out: they wait and are taken in batches, none forgotten."""
    pipeline = intake.pipeline
    monkeypatch.setattr("gateway.pipeline.INTAKE_THREADS", 1)  # busy with the first batch while the others come
    monkeypatch.setattr(pipeline, "schedule", IntakePipeline.schedule.__get__(pipeline))  # the fixture's recorder out
    started, real = threading.Event(), pipeline.process_many
    batches: list[list[int]] = []

    def slow_first(submission_ids: list[int]):  # type: ignore[no-untyped-def]
        batches.append(list(submission_ids))
        started.set()
        time.sleep(0.2 if len(batches) == 1 else 0)  # the others gather meanwhile
        return real(submission_ids)

    monkeypatch.setattr(pipeline, "process_many", slow_first)
    for i in range(COUNT):
        intake.send(build(intake.kit, seq=f"0000{i + 1}"))
        started.wait(5)
    with intake.db.read() as session:
        ids = list(session.scalars(select(Submission.id).order_by(Submission.id)))
    assert len(ids) == COUNT
    deadline = time.monotonic() + 30
    while statuses(intake, ids) != ["accepted"] * COUNT and time.monotonic() < deadline:
        time.sleep(0.05)
    assert statuses(intake, ids) == ["accepted"] * COUNT
    assert sorted(i for batch in batches for i in batch) == sorted(ids) and len(batches) < COUNT


def acrf_files(intake, submission_id: int) -> list[Path]:  # noqa: F811
    stem = intake.row(submission_id).acrf_name[2:]
    return sorted(p for p in intake.home().rglob(f"*{stem}*") if not p.name.startswith("."))


def test_an_acrf_fetched_while_a_late_batch_ran_does_not_come_back(intake, monkeypatch):  # noqa: F811
    """The batch stalled past the first submission's lease (a minute: here RECHECK_AFTER_S 0 stands for it);
    another worker answered it and the sender fetched and deleted its ACRF. The batch's files appear only after,
    so the stalled worker must leave that submission's ACRF out."""
    monkeypatch.setattr("gateway.pipeline.RECHECK_AFTER_S", 0)
    first, second = sent(intake, count=2)
    stalled = intake.pipeline
    other = copy.copy(stalled)  # another worker of the instance: its own lease owner
    other.owner = "another-worker"
    carry_out, fetched = IntakePipeline._carry_out, []

    def meanwhile(self, submission_id, decided, placement):  # type: ignore[no-untyped-def]
        if self is stalled and submission_id == second and not fetched:
            with intake.db.session() as session:
                session.execute(update(Submission).where(Submission.id == first).values(
                    lease_until=utcnow() - timedelta(seconds=1)))
            assert other.process(first) is True
            fetched.extend(acrf_files(intake, first))
            for path in fetched:
                path.unlink()
        return carry_out(self, submission_id, decided, placement)

    monkeypatch.setattr(IntakePipeline, "_carry_out", meanwhile)
    stalled.process_many([first, second])
    assert len(fetched) == 3 and acrf_files(intake, first) == [], "the fetched ACRF came back"
    assert statuses(intake, [first, second]) == ["accepted", "accepted"] and len(acrf_files(intake, second)) == 3
    assert len(intake.log("delivery")) == 2, "each ACRF logged once"


def test_a_release_that_fails_leaves_the_batchs_others_answered_and_no_temporary(intake, monkeypatch):  # noqa: F811
    def database_gone(self, submission_id, exc):  # type: ignore[no-untyped-def]
        raise RuntimeError("database unavailable")

    second_delivery_fails(intake, monkeypatch)
    monkeypatch.setattr(IntakePipeline, "_release", database_gone)
    ids = sent(intake, count=3)
    outcomes = intake.pipeline.process_many(ids)
    assert isinstance(outcomes[ids[1]], OSError) and outcomes[ids[0]] is True and outcomes[ids[2]] is True
    assert statuses(intake, ids) == ["accepted", "decided", "accepted"], "its lease runs out; the others go on"
    assert list(intake.home().rglob("*.tmp")) == []
