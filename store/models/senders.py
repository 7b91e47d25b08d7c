"""Senders (expéditeurs) of structured messages: technical user, channels, certificates, applications."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kernel.clock import utcnow
from store.models.base import Base


class Sender(Base):
    """Expéditeur of a domain; at most one is active per domain (``status`` active or blocked)."""

    __tablename__ = "senders"
    __table_args__ = (  # racing creations: one winner, enforced by the database
        Index("uq_senders_domain_live", "domain_id", unique=True, sqlite_where=text("status != 'deleted'"),
              postgresql_where=text("status != 'deleted'")),)
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(6), unique=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"), index=True)
    status: Mapped[str] = mapped_column(String(8), default="active")  # active | blocked | deleted
    contact: Mapped[dict] = mapped_column(JSON)
    technical_user: Mapped[str] = mapped_column(String(30))
    # lower-cased: EXPtest and EXPTEST are the same login
    technical_user_key: Mapped[str] = mapped_column(String(30), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    technical_user_status: Mapped[str] = mapped_column(String(8), default="active")  # active | blocked
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]
    # bumped by the database (triggers, migration 0009) on every change of the sender, its channels, certificates
    # or applications: a snapshot read at one revision holds while the revision stays
    revision: Mapped[int] = mapped_column(default=0, server_default=text("0"))

    channels: Mapped[list[SenderChannel]] = relationship(
        cascade="all, delete-orphan", order_by="SenderChannel.type", lazy="selectin")


class SenderChannel(Base):
    """Canal FTP (connection type Router), SFTP or Web Service (Internet)."""

    __tablename__ = "sender_channels"
    __table_args__ = (UniqueConstraint("sender_id", "type"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("senders.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(4))  # FTP | SFTP | WS
    ssh_public_key: Mapped[str | None] = mapped_column(Text)
    ssh_fingerprint: Mapped[str | None] = mapped_column(String(60))
    plain_ftp: Mapped[bool] = mapped_column(default=False)  # FTP without TLS, Router connections only
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    certificates: Mapped[list[ChannelCertificate]] = relationship(
        cascade="all, delete-orphan", order_by="ChannelCertificate.id", lazy="selectin")
    applications: Mapped[list[ChannelApplication]] = relationship(
        cascade="all, delete-orphan", order_by="ChannelApplication.code", lazy="selectin")

    @property
    def connection_type(self) -> str:
        return "Router" if self.type == "FTP" else "Internet"


class ChannelCertificate(Base):
    """A certificate whose key signs the files of a channel; two may be valid during a rollover."""

    __tablename__ = "channel_certificates"
    __table_args__ = (UniqueConstraint("channel_id", "fingerprint"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("sender_channels.id", ondelete="CASCADE"))
    pem: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    not_after: Mapped[datetime]
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChannelApplication(Base):
    """An application the channel may carry; ``preferred``: return files of it go out on this channel."""

    __tablename__ = "channel_applications"
    channel_id: Mapped[int] = mapped_column(ForeignKey("sender_channels.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    preferred: Mapped[bool] = mapped_column(default=False)
