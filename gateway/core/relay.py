"""The outbox relay: events written with the change they announce are published at least once.

To RabbitMQ (contract section 6: topic exchange ``gga.events``, persistent messages, publisher confirms,
``message_id`` = the ticket) when ``GGA_AMQP_URL`` is set, to the in-process bus otherwise. Rows are claimed with
a short lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so several instances relay without publishing one event
twice in the normal case; a crash between the broker's confirm and the row's update publishes it again, which is
what "at least once" means: applications de-duplicate on ``message_id``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import pika
from pika.adapters.blocking_connection import BlockingChannel
from sqlalchemy import Row, bindparam, func, or_, select, update

from gateway.core.events import EventBus
from kernel.clock import as_utc, utcnow
from store.database import Database
from store.models import OutboxEvent

log = logging.getLogger("gga.relay")
LEASE = timedelta(seconds=30)
BATCH = 100
SCANNED = 10 * BATCH  # events looked at per claim: those of keys waiting for a retry are passed over
GATHER_S = 0.05  # after a wake: a busy hour's acceptances share the relay's two transactions


class Publisher(Protocol):
    def publish(self, routing_key: str, message_id: str, body: dict[str, Any]) -> None:
        """Returns once the message is safe (the broker confirmed it); raises otherwise."""

    def idle(self) -> None:
        """Called between rounds (heartbeats)."""

    def close(self) -> None: ...


class BusPublisher:
    """The in-process bus: applications in this process subscribe to ``submission.accepted``."""

    in_process = True  # nothing to wait for: the relay publishes and marks in one transaction

    def __init__(self, bus: EventBus):
        self.bus = bus

    def publish(self, routing_key: str, message_id: str, body: dict[str, Any]) -> None:
        self.bus.publish(routing_key.rsplit(".", 2)[0], body)

    def idle(self) -> None:
        pass

    def close(self) -> None:
        pass


class AmqpPublisher:
    """RabbitMQ through pika's blocking connection (one relay thread owns it), reconnecting after any failure."""

    def __init__(self, url: str, exchange: str):
        self.url, self.exchange = url, exchange
        self.connection: pika.BlockingConnection | None = None
        self.channel: BlockingChannel | None = None

    def _open(self) -> BlockingChannel:
        if self.channel is None or self.channel.is_closed:
            self.close()
            params = pika.URLParameters(self.url)
            params.connection_attempts, params.socket_timeout, params.blocked_connection_timeout = 1, 5, 30
            self.connection = pika.BlockingConnection(params)
            self.channel = self.connection.channel()
            self.channel.confirm_delivery()
            self.channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
        return self.channel

    def publish(self, routing_key: str, message_id: str, body: dict[str, Any]) -> None:
        properties = pika.BasicProperties(content_type="application/json", delivery_mode=2, message_id=message_id)
        try:  # mandatory: with no queue bound for the key, the broker returns it instead of confirming a drop
            self._open().basic_publish(self.exchange, routing_key, json.dumps(body).encode(), properties,
                                       mandatory=True)
        except pika.exceptions.UnroutableError as exc:  # the event stays due and is tried again (its backoff)
            raise RuntimeError(f"no queue is bound for {routing_key} on {self.exchange}: kept, tried again") from exc
        except Exception:
            self.close()  # the next try opens a fresh connection
            raise

    def idle(self) -> None:
        if self.connection is not None and self.connection.is_open:
            try:
                self.connection.process_data_events(0)
            except Exception:
                self.close()

    def close(self) -> None:
        connection, self.connection, self.channel = self.connection, None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except Exception:
                log.debug("closing the AMQP connection", exc_info=True)


class EventRelay:
    def __init__(self, db: Database, publisher: Publisher, every_s: float = 1.0):
        self.db, self.publisher, self.every_s = db, publisher, every_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        """Something was just written to the outbox: relay now rather than at the next tick."""
        self._wake.set()

    def relay_once(self) -> int:
        """Claim a batch, publish it in order, record what went out; returns how many were published."""
        if getattr(self.publisher, "in_process", False):
            return self._relay_in_transaction()
        batch = self._claim()
        published: list[int] = []
        failure: tuple[int, Exception] | None = None
        for event_id, routing_key, message_id, body in batch:
            try:
                self.publisher.publish(routing_key, message_id, body)
                published.append(event_id)
            except Exception as exc:
                failure = (event_id, exc)
                log.warning("outbox event %s not published: %r", event_id, exc)  # repr: pika's often have no text
                break
        self._record(published, [b[0] for b in batch if b[0] not in published], failure)
        return len(published)

    def _relay_in_transaction(self) -> int:
        """The in-process bus cannot fail half-way (a subscriber's error is its own): a batch is published and
        marked in one transaction. A crash before the commit publishes it again, as a broker's would."""
        now = utcnow()
        with self.db.session() as session:  # plain rows and one UPDATE: no ORM object per event
            rows = _in_order(session.execute(_PENDING_ROWS, {"now": now}).all(), now)
            for row in rows:
                self.publisher.publish(row.routing_key, row.message_id, row.body)
            if rows:
                session.execute(_MARK_PUBLISHED, {"ids": [row.id for row in rows], "at": now})
            return len(rows)

    def _claim(self) -> list[tuple[int, str, str, dict[str, Any]]]:
        now = utcnow()
        with self.db.session() as session:
            rows = _in_order(session.execute(_PENDING_ROWS, {"now": now}).all(), now)
            if rows:
                session.execute(_LEASE_ROWS, {"ids": [row.id for row in rows], "until": now + LEASE})
            return [(r.id, r.routing_key, r.message_id, r.body) for r in rows]

    def _record(self, published: list[int], left: list[int], failure: tuple[int, Exception] | None) -> None:
        if not published and not left:
            return
        now = utcnow()
        with self.db.session() as session:
            if published:
                session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(published))
                                .values(published_at=now, lease_until=None))
            if left:
                session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(left)).values(lease_until=None))
            if failure is not None:
                row = session.get(OutboxEvent, failure[0])
                if row is not None:
                    row.attempts += 1
                    row.last_error = repr(failure[1])[:2000]
                    row.next_attempt_at = now + timedelta(seconds=min(2 ** row.attempts, 60))

    def backlog(self) -> int:
        with self.db.read() as session:
            return session.scalar(select(func.count()).select_from(OutboxEvent)
                                  .where(OutboxEvent.published_at.is_(None))) or 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            if self._wake.wait(self.every_s):
                self._stopping.wait(GATHER_S)  # events accepted together go out in one claim and one record
            self._wake.clear()
            try:
                while self.relay_once() == BATCH:
                    pass
                self.publisher.idle()
            except Exception:  # the database may be away for a moment: next tick
                log.exception("outbox relay")

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.publisher.close()


def _in_order(rows: Sequence[Row[Any]], now: datetime) -> list[Row[Any]]:
    """What may go now, in order: each routing key's events (one application and environment) in the order they
    were written, none past an earlier one of its key still waiting for its retry (an outage's events came out in
    whatever order their backoffs ended). Another key's events are not held back by it: a key no queue is bound
    for yet waits alone."""
    waiting: set[str] = set()
    due: list[Row[Any]] = []
    for row in rows:
        if row.routing_key in waiting:
            continue
        if row.next_attempt_at is not None and as_utc(row.next_attempt_at) > now:
            waiting.add(row.routing_key)
            continue
        due.append(row)
        if len(due) == BATCH:
            break
    return due


# The relay's statements, built once on the table (it runs about once per accepted submission).
_OUT = OutboxEvent.__table__.c
# the events not yet published, in order, their retries due or not (``_in_order`` picks); rows another relay
# holds are skipped (PostgreSQL)
_PENDING_ROWS = select(_OUT.id, _OUT.routing_key, _OUT.message_id, _OUT.body, _OUT.next_attempt_at).where(
    _OUT.published_at.is_(None), or_(_OUT.lease_until.is_(None), _OUT.lease_until < bindparam(
        "now", type_=_OUT.lease_until.type)),
).order_by(_OUT.id).limit(SCANNED).with_for_update(skip_locked=True)
_MARK_PUBLISHED = update(OutboxEvent.__table__).where(_OUT.id.in_(bindparam("ids", expanding=True))).values(
    published_at=bindparam("at", type_=_OUT.published_at.type), lease_until=None)
_LEASE_ROWS = update(OutboxEvent.__table__).where(_OUT.id.in_(bindparam("ids", expanding=True))).values(
    lease_until=bindparam("until", type_=_OUT.lease_until.type))
