"""Leased processing on the real database: racing GOs get one acceptance, failures are retried with a backoff and
shown to ops, a submission that keeps failing gets its one rejecting ACRF, a dead worker's lease is taken over."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from kernel.clock import utcnow
from store.models import OutboxEvent, ReceivedFile, Submission
from tests.gateway.harness import Submission as Files
from tests.gateway.harness import build
from tests.gateway.test_pipeline_decisions import intake  # noqa: F401 (the fixture)

GOS = 8


def _due_now(db) -> None:
    with db.session() as session:
        session.execute(update(Submission).values(next_attempt_at=None))


def test_racing_gos_of_one_name_accept_it_once(intake):  # noqa: F811
    """One set of parts, then the same GO eight times, all processed at once by eight workers."""
    files = build(intake.kit)
    *parts, go = files.files
    intake.send(Files(parts))
    ids = [intake.send(Files([go])) for _ in range(GOS)]
    barrier = threading.Barrier(GOS)

    def work(submission_id: int) -> None:
        barrier.wait(10)
        intake.pipeline.process(submission_id)

    workers = [threading.Thread(target=work, args=(i,)) for i in ids]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    rows = [intake.row(i) for i in ids]
    assert Counter(r.status for r in rows) == Counter({"accepted": 1, "rejected": GOS - 1})
    winner = next(r for r in rows if r.status == "accepted")
    assert {e["code"] for r in rows if r.status == "rejected" for e in r.errors} <= {
        "NAME_ALREADY_ACCEPTED", "PARTS_INCOMPLETE", "SIGNATURE_MISSING"}
    assert len(intake.acrfs()) == GOS and len({r.acrf_name for r in rows}) == GOS  # one each, none overwritten
    data = intake.files_of(kind="FI")
    assert [(f.submission_id, f.status) for f in data] == [(winner.id, "submitted")]  # the part went once


def test_a_failure_is_retried_with_a_backoff_and_shown_to_ops(intake, client, auth, monkeypatch):  # noqa: F811
    deliver = intake.gateway.returns.deliver
    failures = iter([OSError("disk unavailable")])

    def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
        if (err := next(failures, None)) is not None:
            raise err
        return deliver(*args, **kwargs)

    monkeypatch.setattr(intake.gateway.returns, "deliver", flaky)
    submission_id = intake.send(build(intake.kit))
    with pytest.raises(OSError):
        intake.pipeline.process(submission_id)
    row = intake.row(submission_id)
    assert (row.status, row.attempts, row.lease_until) == ("decided", 1, None) and "disk unavailable" in row.last_error
    assert row.next_attempt_at > utcnow()
    assert intake.pipeline.process(submission_id) is False  # not due yet
    ops = {"Authorization": auth(roles=["ops"])["Authorization"]}
    listed = client.get("/api/v1/submissions", params={"status": "retrying"}, headers=ops).json()
    assert [(s["ticket"], s["attempts"], s["retrying"]) for s in listed["items"]] == [(row.ticket, 1, True)]
    _due_now(intake.db)
    assert intake.pipeline.due() == [submission_id]
    assert intake.pipeline.process(submission_id) is True
    assert intake.row(submission_id).status == "accepted" and len(intake.acrfs()) == 1
    assert client.get("/api/v1/submissions", params={"status": "retrying"}, headers=ops).json()["total"] == 0


def test_a_submission_failing_past_the_give_up_time_gets_one_rejecting_acrf(intake, monkeypatch):  # noqa: F811
    submission_id = intake.send(build(intake.kit))
    with intake.db.session() as session:
        session.execute(update(Submission).values(created_at=utcnow() - timedelta(hours=25),
                                                  last_error="OSError('disk unavailable')"))
    intake.pipeline.process(submission_id)
    row = intake.row(submission_id)
    assert row.status == "rejected" and [e["code"] for e in row.errors] == ["PROCESSING_FAILED"]
    _, _, acrf = intake.only_acrf()
    assert acrf.findtext("ResultCode") == "0"


def test_a_dead_worker_s_lease_is_taken_over_once_it_expires(intake):  # noqa: F811
    submission_id = intake.send(build(intake.kit))
    with intake.db.session() as session:  # another instance claimed it, then died
        session.execute(update(Submission).values(lease_owner="dead", lease_until=utcnow() + timedelta(seconds=60)))
    assert intake.pipeline.process(submission_id) is False and intake.pipeline.due() == []
    with intake.db.session() as session:
        session.execute(update(Submission).values(lease_until=utcnow() - timedelta(seconds=1)))
    assert intake.pipeline.due() == [submission_id]
    assert intake.pipeline.process(submission_id) is True
    assert intake.row(submission_id).status == "accepted"


def test_the_accepted_event_is_in_the_outbox_with_the_acceptance(intake):  # noqa: F811
    submission_id = intake.send(build(intake.kit))
    intake.pipeline.process(submission_id)
    row = intake.row(submission_id)
    with intake.db.session() as session:
        (event,) = session.scalars(select(OutboxEvent)).all()
        assert (event.routing_key, event.message_id, event.published_at) == (
            "submission.accepted.DMFA.T", row.ticket, None)
    assert intake.gateway.relay.relay_once() == 1
    assert intake.gateway.bus.recent[-1][1]["ticket"] == row.ticket
    assert intake.gateway.relay.relay_once() == 0  # published once
    with intake.db.session() as session:
        assert session.scalar(select(ReceivedFile.status).where(ReceivedFile.kind == "FI")) == "submitted"


def test_the_sweeper_leaves_parts_whose_go_came(intake):  # noqa: F811
    """Old parts whose GO arrived (its processing failing, or held by a dead worker) are the GO's to answer."""
    submission_id = intake.send(build(intake.kit))
    with intake.db.session() as session:
        session.execute(update(Submission).values(lease_owner="dead", lease_until=utcnow() + timedelta(seconds=60)))
    assert intake.pipeline.sweep_orphans(timedelta(seconds=-1)) == 0
    with intake.db.session() as session:
        session.execute(update(Submission).values(lease_until=None))
    intake.pipeline.process(submission_id)
    assert intake.row(submission_id).status == "accepted" and len(intake.acrfs()) == 1
    assert intake.pipeline.sweep_orphans(timedelta(seconds=-1)) == 0
