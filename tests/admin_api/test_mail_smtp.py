"""Confirmation mails leave through a real SMTP server (aiosmtpd on loopback)."""

import socket
import time
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from admin_api.mail import deliver_pending
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
