"""The outbox relay against the RabbitMQ of this machine (127.0.0.1:5672): the contract's exchange, routing key,
persistent message and message_id; a broker that is down delays the event, never loses it."""

from __future__ import annotations

import json
import uuid

import pika
import pytest
from sqlalchemy import select, update

from gateway.core.relay import AmqpPublisher, EventRelay
from store.models import OutboxEvent
from tests.gateway.harness import build
from tests.gateway.test_pipeline_decisions import intake  # noqa: F401 (the fixture)

AMQP = "amqp://guest:guest@127.0.0.1:5672/%2F"


@pytest.fixture
def queue():
    """A queue of this test's own, bound to every accepted submission (the broker keeps state between runs)."""
    try:
        connection = pika.BlockingConnection(pika.URLParameters(AMQP))
    except pika.exceptions.AMQPError as exc:
        pytest.skip(f"RabbitMQ unreachable: {exc}")
    channel = connection.channel()
    channel.exchange_declare("gga.events", exchange_type="topic", durable=True)
    name = f"test-{uuid.uuid4().hex[:8]}"
    channel.queue_declare(name, auto_delete=False, arguments={"x-expires": 600_000})
    channel.queue_bind(name, "gga.events", "submission.accepted.#")
    yield channel, name
    channel.queue_delete(name)
    connection.close()


def messages(channel, name: str) -> list[tuple]:
    found = []
    while (got := channel.basic_get(name, auto_ack=True)) != (None, None, None):
        method, properties, body = got
        found.append((method.routing_key, properties.message_id, properties.delivery_mode, json.loads(body)))
    return found


def test_an_accepted_submission_reaches_rabbitmq_once(intake, queue):  # noqa: F811
    channel, name = queue
    submission_id = intake.send(build(intake.kit))
    intake.pipeline.process(submission_id)
    ticket = intake.row(submission_id).ticket
    relay = EventRelay(intake.db, AmqpPublisher(AMQP, "gga.events"))
    try:
        assert relay.relay_once() == 1
        assert relay.relay_once() == 0
    finally:
        relay.stop()
    ((key, _, mode, body),) = [m for m in messages(channel, name) if m[1] == ticket]
    assert (key, mode) == ("submission.accepted.DMFA.T", 2)
    assert {"ticket", "sender_number", "application", "environment", "go", "folder", "files"} <= set(body)
    assert body["sender_number"] == intake.kit.number and body["files"][0]["sha256"]


def test_a_broker_outage_delays_the_event(intake, queue):  # noqa: F811
    channel, name = queue
    submission_id = intake.send(build(intake.kit))
    intake.pipeline.process(submission_id)
    ticket = intake.row(submission_id).ticket
    down = EventRelay(intake.db, AmqpPublisher("amqp://guest:guest@127.0.0.1:1/%2F", "gga.events"))
    assert down.relay_once() == 0
    down.stop()
    with intake.db.session() as session:
        event = session.scalars(select(OutboxEvent)).one()
        assert (event.published_at, event.attempts, event.lease_until) == (None, 1, None) and event.last_error
        session.execute(update(OutboxEvent).values(next_attempt_at=None))  # what the backoff's wait does
    up = EventRelay(intake.db, AmqpPublisher(AMQP, "gga.events"))
    try:
        assert up.relay_once() == 1
    finally:
        up.stop()
    # this sender's events only: a test running beside it on another worker publishes to the same exchange
    assert [m[1] for m in messages(channel, name) if m[3]["sender_number"] == intake.kit.number] == [ticket]


def test_an_event_no_queue_is_bound_for_waits_for_one_instead_of_being_dropped(intake):  # noqa: F811
    """RabbitMQ confirms a message it routes nowhere: the event was marked published and lost, an application
    whose queue was not bound yet (or renamed) never got it."""
    try:
        connection = pika.BlockingConnection(pika.URLParameters(AMQP))
    except pika.exceptions.AMQPError as exc:
        pytest.skip(f"RabbitMQ unreachable: {exc}")
    exchange = f"test-unbound-{uuid.uuid4().hex[:8]}"  # an exchange of this test's own: nothing bound to it yet
    submission_id = intake.send(build(intake.kit))
    intake.pipeline.process(submission_id)
    relay = EventRelay(intake.db, AmqpPublisher(AMQP, exchange))
    channel = connection.channel()
    try:
        assert relay.relay_once() == 0  # returned by the broker: not published
        with intake.db.read() as session:
            event = session.scalars(select(OutboxEvent)).one()
        assert event.published_at is None and "no queue is bound" in (event.last_error or "")
        name = channel.queue_declare("", exclusive=True).method.queue  # the application binds its queue
        channel.queue_bind(name, exchange, "submission.accepted.#")
        with intake.db.session() as session:  # its backoff over
            session.execute(update(OutboxEvent).values(next_attempt_at=None))
        assert relay.relay_once() == 1
        assert [m[1] for m in messages(channel, name)] == [intake.row(submission_id).ticket]
    finally:
        relay.stop()
        channel.exchange_delete(exchange)
        connection.close()


def test_after_an_outage_each_applications_events_go_out_in_the_order_they_were_written(intake, queue):  # noqa: F811
    """The first event failed and waited for its retry while the ones after it, never tried, went out first: an
    outage's events reached the broker in whatever order their backoffs ended (4, 5, 1, 2, 3). Now an event waits
    behind an earlier one of its routing key; another application's is not held back."""
    channel, name = queue
    tickets = []
    for seq in ("00011", "00012", "00013"):
        submission_id = intake.send(build(intake.kit, seq=seq))
        intake.pipeline.process(submission_id)
        tickets.append(intake.row(submission_id).ticket)
    down = EventRelay(intake.db, AmqpPublisher("amqp://guest:guest@127.0.0.1:1/%2F", "gga.events"))
    assert down.relay_once() == 0  # the first failed: its retry waits; the other two were not tried
    down.stop()
    later = intake.send(build(intake.kit, seq="00014"))
    intake.pipeline.process(later)
    tickets.append(intake.row(later).ticket)
    other = intake.send(build(intake.kit, app="ZIMA", content=b"a flat file", seq="00015"))
    intake.pipeline.process(other)
    other_ticket = intake.row(other).ticket
    up = EventRelay(intake.db, AmqpPublisher(AMQP, "gga.events"))
    try:
        assert up.relay_once() == 1  # only ZIMA's: DMFA's wait behind their first's retry
        with intake.db.session() as session:  # the first's backoff over
            session.execute(update(OutboxEvent).values(next_attempt_at=None))
        assert up.relay_once() == 4
    finally:
        up.stop()
    mine = [(m[0], m[1]) for m in messages(channel, name) if m[3]["sender_number"] == intake.kit.number]
    assert mine == [("submission.accepted.ZIMA.T", other_ticket)] + [
        ("submission.accepted.DMFA.T", t) for t in tickets]
