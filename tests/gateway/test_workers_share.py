"""The workers of one instance share each other's backlog: a submission its receiving worker has not started is
taken by an idle sibling, processed once, and never taken twice (gga serve --workers N)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.core.gateway import Gateway
from gateway.pipeline import INTAKE_SLOTS
from store.models import Submission
from tests.gateway.harness import build, put, wait_submission


@pytest.fixture
def sibling(services, db):  # type: ignore[no-untyped-def]
    """A second worker of the same instance (worker 1 of 2) on the same database and data folder."""
    built = Gateway.build(services.settings.model_copy(update={"worker": 1, "workers": 2}), db, services.passwords)
    yield built
    built.pipeline._queued.clear()
    built.close()


def test_an_idle_worker_takes_the_backlog_of_a_busy_sibling_once(harness, kit, db, sibling):  # type: ignore[no-untyped-def]
    received_by = harness.gateway.pipeline
    received_by.schedule = lambda _id: None  # its intake threads are all busy: the GO waits in its backlog
    subs = [build(kit, seq=f"0000{i}") for i in (1, 2)]
    for sub in subs:
        put(harness.port, kit, sub)
    assert sibling.pipeline.share() == 2
    rows = [wait_submission(db, sub.go) for sub in subs]
    assert {r.status for r in rows} == {"accepted"}, "the sibling processed both (the receiver cannot)"
    assert sibling.pipeline.share() == 0, "nothing final is taken again"
    with db.read() as session:
        assert session.scalar(select(Submission.id).where(Submission.status != "accepted")) is None


def test_a_worker_with_no_free_intake_thread_takes_nothing(harness, kit, db, sibling):  # type: ignore[no-untyped-def]
    harness.gateway.pipeline.schedule = lambda _id: None
    put(harness.port, kit, build(kit))
    sibling.pipeline._queued.update(range(-INTAKE_SLOTS, 0))  # as many of its own queued as it takes
    assert sibling.pipeline.share() == 0
    with db.read() as session:
        assert session.scalar(select(Submission.status)) == "received", "still waiting for a free worker"
