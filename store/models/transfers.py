"""What the gateway keeps: files received, submissions with their acknowledgement, and the transfer log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kernel.clock import utcnow
from store.models.base import Base


class ReceivedFile(Base):
    """A file durably received in an upload folder (or refused while streaming, with its code)."""

    __tablename__ = "received_files"
    __table_args__ = (Index("ix_received_sender_base", "sender_id", "base", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("senders.id"))
    channel: Mapped[str] = mapped_column(String(4))
    folder: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(2))
    base: Mapped[str] = mapped_column(String(40))
    total: Mapped[int | None]
    part: Mapped[int | None]
    path: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    # received | submitted | cancelled | refused | superseded (refused, then resent whole)
    status: Mapped[str] = mapped_column(String(10), default="received")
    error_code: Mapped[str | None] = mapped_column(String(40))
    submission_id: Mapped[int | None] = mapped_column(index=True)  # no FK: submissions already refer here
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Submission(Base):
    """One GO and the parts it closes; processed exactly once, acknowledged by one ACRF."""

    __tablename__ = "submissions"
    __table_args__ = (Index("ix_submissions_sender_base", "sender_id", "base", "status"),
                      # one accepted submission per (sender, name): set with the decision, before any ACRF
                      UniqueConstraint("sender_id", "accepted_base", name="uq_submissions_accepted_base"))
    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("senders.id"))
    go_file_id: Mapped[int] = mapped_column(ForeignKey("received_files.id"), unique=True)
    base: Mapped[str] = mapped_column(String(40))
    go_name: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(4))
    protocol: Mapped[str | None] = mapped_column(String(6))  # SFTP, FTP, FTPS or WS: the GO's (NULL: a stand-in)
    application: Mapped[str] = mapped_column(String(4))
    environment: Mapped[str] = mapped_column(String(1))
    ticket: Mapped[str] = mapped_column(String(13), unique=True)
    # received | decided (findings and ACRF name committed) | accepted | rejected
    status: Mapped[str] = mapped_column(String(10), default="received", index=True)
    errors: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    accepted_base: Mapped[str | None] = mapped_column(String(40))  # = base once decided accepted, else NULL
    acrf_name: Mapped[str | None] = mapped_column(String(64), unique=True)
    # leased processing: whoever holds an unexpired lease works on it; a failure waits next_attempt_at
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_channel: Mapped[str | None] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]


# what the transfer log's ``event`` and ``result`` columns hold (its filters refuse anything else)
EVENTS = ("login", "session", "connection", "command", "upload", "download", "delete", "submission", "delivery",
          "cancel", "ban", "mkdir", "rmdir", "rename", "symlink", "link", "open56")  # the last: SFTP's refused calls
RESULTS = ("ok", "accepted", "rejected", "refused", "incomplete", "failed", "ended")


class TransferEvent(Base):
    """The transfer log (contract section 8): every login, upload, download, deletion, result and delivery."""

    __tablename__ = "transfer_log"
    __table_args__ = (Index("ix_transfer_at", "at"), Index("ix_transfer_sender_at", "sender_number", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    event: Mapped[str] = mapped_column(String(12))  # login|upload|download|delete|submission|delivery|cancel
    protocol: Mapped[str] = mapped_column(String(6))  # SFTP|FTP|FTPS|WS|API|-
    sender_number: Mapped[str | None] = mapped_column(String(6))
    technical_user: Mapped[str | None] = mapped_column(String(64))
    remote_address: Mapped[str | None] = mapped_column(String(64))
    file_name: Mapped[str | None] = mapped_column(String(128))
    application: Mapped[str | None] = mapped_column(String(4))
    environment: Mapped[str | None] = mapped_column(String(1))
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    duration_ms: Mapped[int | None]
    result: Mapped[str] = mapped_column(String(10))  # ok|refused|failed|incomplete|accepted|rejected
    error_code: Mapped[str | None] = mapped_column(String(40))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ServiceToken(Base):
    """A web-service bearer token (only its SHA-256 is kept), valid on every instance until it expires."""

    __tablename__ = "service_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("senders.id"))
    expires_at: Mapped[datetime] = mapped_column(index=True)


class UsedAssertion(Base):
    """A client assertion's ``jti`` once used: a replay is refused until the assertion would have expired."""

    __tablename__ = "used_assertions"
    jti: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class OutboxEvent(Base):
    """An event written in the transaction of the change it announces; the relay publishes it at least once."""

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_pending", "published_at", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    routing_key: Mapped[str] = mapped_column(String(120))  # submission.accepted.<APPLICATION>.<E>
    message_id: Mapped[str] = mapped_column(String(64))  # the ticket
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    lease_until: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
