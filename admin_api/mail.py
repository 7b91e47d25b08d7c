"""Mails are queued in the outbox inside the business transaction, then sent through SMTP when one is set.

Sending is at least once: rows are claimed with a lease (several instances never send one mail at the same time),
a failure waits 2, 4, 8... seconds (at most 10 minutes) and is retried until ``GGA_MAIL_RETRY_H`` after the mail
was queued; then it is given up and logged.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel.clock import as_utc, utcnow
from kernel.i18n import of_person, translate
from kernel.settings import Settings
from store.database import Database
from store.leases import claimable
from store.models import OutboxMail

log = logging.getLogger("gga.mail")
LEASE = timedelta(minutes=2)
BATCH = 50


def queue(session: Session, recipient: str, subject: str, body: str) -> None:
    session.add(OutboxMail(recipient=recipient, subject=subject, body=body))


def queue_message(session: Session, recipient: str, language: str | None, key: str, **facts: object) -> None:
    """The catalogue's mail ``key`` (``key.subject``, ``key.body``) in the person's language (French when the
    person has none or one we do not write)."""
    lang = of_person(language)
    queue(session, recipient, translate(f"{key}.subject", lang, **facts), translate(f"{key}.body", lang, **facts))


def deliver_pending(db: Database, settings: Settings) -> int:
    """Send what is due; returns how many went out. Failures stay queued with their error and next attempt."""
    if not settings.smtp_host:
        return 0
    sent = 0
    for _ in range(BATCH):  # one at a time: a claim's lease covers one mail's sending, whatever the SMTP server's pace
        claimed = _claim(db, settings)
        if not claimed:
            break
        sent += _deliver(db, settings, claimed[0])
    return sent


def _claim(db: Database, settings: Settings) -> list[int]:
    now = utcnow()
    oldest = now - timedelta(hours=settings.mail_retry_h)
    with db.session() as session:
        rows = session.scalars(select(OutboxMail).where(
            OutboxMail.sent_at.is_(None), OutboxMail.created_at >= oldest,
            *claimable(OutboxMail, now),
        ).order_by(OutboxMail.id).limit(1).with_for_update(skip_locked=True)).all()
        for mail in rows:
            mail.lease_until = now + LEASE
        return [m.id for m in rows]


def _deliver(db: Database, settings: Settings, mail_id: int) -> int:
    with db.read() as session:
        mail = session.get(OutboxMail, mail_id)
    assert mail is not None
    error = None
    try:
        _send(settings, mail)
    except Exception as exc:  # any failure is this mail's, recorded with its retry (a bad setting raises others)
        error = f"{type(exc).__name__}: {exc}" if not isinstance(exc, OSError | smtplib.SMTPException) \
            else str(exc) or type(exc).__name__
    with db.session() as session:
        row = session.get(OutboxMail, mail_id)
        assert row is not None
        row.attempts += 1
        row.lease_until = None
        if error is None:
            row.sent_at = utcnow()
            return 1
        row.last_error = error[:2000]
        row.next_attempt_at = utcnow() + timedelta(seconds=min(2 ** row.attempts, 600))
        gives_up = row.next_attempt_at > row.created_at + timedelta(hours=settings.mail_retry_h)
    log.warning("mail %s to %s not sent (attempt %s%s): %s", mail_id, mail.recipient, row.attempts,
                ", given up" if gives_up else "", error)
    return 0


def _send(settings: Settings, mail: OutboxMail) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = settings.mail_from, mail.recipient, mail.subject
    msg["Message-ID"] = f"<outbox-{mail.id}@{settings.mail_from.rpartition('@')[2] or 'gga.local'}>"
    # required by RFC 5322 and not added by many relays: when it was queued, the same on every retry
    msg["Date"] = format_datetime(as_utc(mail.created_at))
    msg.set_content(mail.body)
    assert settings.smtp_host is not None
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context(cafile=settings.smtp_ca_file))
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(msg)
