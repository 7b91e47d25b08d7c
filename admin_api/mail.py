"""Mails are queued in the outbox inside the business transaction, then sent through SMTP when one is set."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel.clock import utcnow
from kernel.settings import Settings
from store.database import Database
from store.models import OutboxMail

log = logging.getLogger("gga.mail")
MAX_ATTEMPTS = 5


def queue(session: Session, recipient: str, subject: str, body: str) -> None:
    session.add(OutboxMail(recipient=recipient, subject=subject, body=body))


def deliver_pending(db: Database, settings: Settings) -> int:
    """Send what the outbox holds; returns how many went out. Failures stay queued with their error."""
    if not settings.smtp_host:
        return 0
    sent = 0
    with db.session() as session:
        pending = session.scalars(select(OutboxMail).where(
            OutboxMail.sent_at.is_(None), OutboxMail.attempts < MAX_ATTEMPTS).order_by(OutboxMail.id).limit(100))
        for mail in pending:
            mail.attempts += 1
            try:
                _send(settings, mail)
                mail.sent_at = utcnow()
                sent += 1
            except (OSError, smtplib.SMTPException) as exc:
                mail.last_error = str(exc)
                log.warning("mail to %s not sent: %s", mail.recipient, exc)
    return sent


def _send(settings: Settings, mail: OutboxMail) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = settings.mail_from, mail.recipient, mail.subject
    msg.set_content(mail.body)
    assert settings.smtp_host is not None
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        smtp.send_message(msg)
