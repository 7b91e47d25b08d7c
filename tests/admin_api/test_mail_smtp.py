"""Confirmation mails leave through a real SMTP server (aiosmtpd on loopback)."""

import socket
import ssl
import time
from datetime import timedelta
from email.header import decode_header, make_header
from email.utils import parsedate_to_datetime

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from aiosmtpd.smtp import AuthResult
from sqlalchemy import select, update

from admin_api.mail import deliver_pending
from kernel.clock import as_utc, utcnow
from keys.issuing import issue
from store.models import OutboxMail
from tests.admin_api.world import make_world


class Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


@pytest.fixture
def smtp():
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, inbox
    controller.stop()


def test_registration_mails_reach_the_smtp_server(db, client, auth, services, smtp):
    controller, inbox = smtp
    make_world(db, client, auth)
    assert deliver_pending(services.db, services.settings) == 0  # no SMTP configured: kept in the outbox
    services.settings.smtp_host, services.settings.smtp_port = "127.0.0.1", controller.port
    sent = deliver_pending(services.db, services.settings)
    deadline = time.monotonic() + 5
    while len(inbox.messages) < sent and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sent == 2 and len(inbox.messages) == 2  # one per registered enterprise's GAP
    first = inbox.messages[0]
    assert first["To"] == "direction@a.be"
    subject = str(make_header(decode_header(first["Subject"])))
    assert subject == "CSAM: vous êtes Gestionnaire d'Accès Principal"
    assert deliver_pending(services.db, services.settings) == 0  # nothing sent twice


def test_unreachable_smtp_keeps_the_mail_queued(db, client, auth, services):
    make_world(db, client, auth)
    services.settings.smtp_host, services.settings.smtp_port = "127.0.0.1", 1
    assert deliver_pending(services.db, services.settings) == 0
    services.settings.smtp_host = None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _due_now(db) -> None:
    """Skip the backoff's wait (what time would do)."""
    with db.session() as session:
        session.execute(update(OutboxMail).values(next_attempt_at=None))


def test_an_smtp_outage_delays_mails_and_every_mail_arrives_once(db, client, auth, services):
    make_world(db, client, auth)
    port = _free_port()
    services.settings.smtp_host, services.settings.smtp_port = "127.0.0.1", port
    try:
        for _ in range(3):  # down: each round fails, the mails stay queued with a growing wait
            assert deliver_pending(services.db, services.settings) == 0
            assert deliver_pending(services.db, services.settings) == 0  # not due yet: no attempt at all
            _due_now(db)
        with db.session() as session:
            rows = session.scalars(select(OutboxMail)).all()
            assert [(r.attempts, r.sent_at) for r in rows] == [(3, None)] * 2 and all(r.last_error for r in rows)
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            assert deliver_pending(services.db, services.settings) == 2
            assert deliver_pending(services.db, services.settings) == 0
            _due_now(db)
            assert deliver_pending(services.db, services.settings) == 0  # sent ones never go again
            deadline = time.monotonic() + 5
            while len(inbox.messages) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len({m["Message-ID"] for m in inbox.messages}) == len(inbox.messages) == 2
            with db.session() as session:  # RFC 5322's required Date: when each was queued, not when it finally went
                rows = session.scalars(select(OutboxMail))
                queued = sorted(as_utc(r.created_at).replace(microsecond=0) for r in rows)
            assert sorted(parsedate_to_datetime(m["Date"]) for m in inbox.messages) == queued
        finally:
            controller.stop()
    finally:
        services.settings.smtp_host = None


def test_mails_older_than_the_retry_window_are_given_up(db, client, auth, services):
    make_world(db, client, auth)
    with db.session() as session:
        session.execute(update(OutboxMail).values(created_at=utcnow() - timedelta(hours=25)))
    services.settings.smtp_host, services.settings.smtp_port = "127.0.0.1", _free_port()
    try:
        assert deliver_pending(services.db, services.settings) == 0
        with db.session() as session:
            assert [r.attempts for r in session.scalars(select(OutboxMail))] == [0, 0]  # not tried any more
    finally:
        services.settings.smtp_host = None


class _Accept:
    def __call__(self, server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = (auth_data.login, auth_data.password) == (b"gga", b"s3cret-Mail")
        return AuthResult(success=ok)


def test_starttls_and_login(db, client, auth, services, tmp_path):
    make_world(db, client, auth)
    server = issue("localhost", dns_names=["localhost"])
    (tmp_path / "cert.pem").write_bytes(server.cert_pem())
    (tmp_path / "key.pem").write_bytes(server.key_pem())
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                            authenticator=_Accept(), auth_required=True)
    controller.start()
    settings = services.settings
    try:
        settings.smtp_host, settings.smtp_port, settings.smtp_ca_file = "localhost", port, tmp_path / "cert.pem"
        settings.smtp_starttls, settings.smtp_user, settings.smtp_password = True, "gga", "s3cret-Mail"
        assert deliver_pending(services.db, settings) == 2  # the server refuses mail before STARTTLS and login
        deadline = time.monotonic() + 5
        while len(inbox.messages) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(inbox.messages) == 2
    finally:
        controller.stop()
        settings.smtp_host, settings.smtp_starttls, settings.smtp_user = None, False, None


class SlowInbox(Inbox):
    """A slow relay (TLS, greylisting...): each mail takes its time."""

    def handle_message(self, message):
        time.sleep(0.4)
        super().handle_message(message)


def _queued(db, count: int) -> None:
    from admin_api import mail

    with db.session() as session:
        for n in range(count):
            mail.queue(session, f"m{n}@a.be", "subject", "body")


def test_a_slow_smtp_server_never_gets_a_mail_twice_from_two_pumps(db, services, monkeypatch):
    """A batch claimed at once outlived its lease on a slow server, and another worker's pump sent it again."""
    import threading

    from admin_api import mail

    monkeypatch.setattr(mail, "LEASE", timedelta(seconds=1.2))  # scaled down: one mail's time, not six
    inbox = SlowInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    services.settings.smtp_host, services.settings.smtp_port = "127.0.0.1", controller.port
    try:
        _queued(db, 6)
        pumps = [threading.Thread(target=deliver_pending, args=(services.db, services.settings)) for _ in range(2)]
        for pump in pumps:
            pump.start()
            time.sleep(1.5)  # the other worker's pump, once a six-mail claim would have run out
        for pump in pumps:
            pump.join(60)
        assert sorted(m["To"] for m in inbox.messages) == sorted(f"m{n}@a.be" for n in range(6))
    finally:
        services.settings.smtp_host = None
        controller.stop()


def test_a_failure_that_is_no_smtp_error_is_recorded_and_retried_like_one(db, services):
    """A password smtplib cannot encode raised UnicodeEncodeError: nothing was recorded or logged, the claimed
    mails stayed held, and they were silently given up a day later."""
    controller = Controller(Inbox(), hostname="127.0.0.1", port=_free_port(), auth_require_tls=False,
                            authenticator=lambda *_: AuthResult(success=True))
    controller.start()
    services.settings.smtp_host, services.settings.smtp_port = "127.0.0.1", controller.port
    services.settings.smtp_user, services.settings.smtp_password = "relay", "pässwörd"
    try:
        _queued(db, 2)
        assert deliver_pending(services.db, services.settings) == 0
        with db.session() as session:
            rows = session.scalars(select(OutboxMail)).all()
        assert [(r.attempts, r.lease_until, r.sent_at) for r in rows] == [(1, None, None)] * 2
        assert all("UnicodeEncodeError" in r.last_error for r in rows)
    finally:
        services.settings.smtp_host = services.settings.smtp_user = services.settings.smtp_password = None
        controller.stop()
