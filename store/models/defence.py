"""What the defender and the session caps share between instances: failed logins and bans per remote address, and
the SFTP/FTP sessions open on every instance.

The counting is here too (plain queries on a session), so the gateway's front ends and the admin API's 401s count
into the same rows without the admin API importing the gateway.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from kernel.clock import utcnow
from store.models.base import Base

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class DefenderAddress(Base):
    """Failed logins of one remote address in the current window, and its ban once past the limit."""

    __tablename__ = "defender_addresses"
    address: Mapped[str] = mapped_column(String(45), primary_key=True)  # an IPv4 or IPv6 address, no port
    failures: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[datetime] = mapped_column(default=utcnow)  # the window's first failure
    banned_until: Mapped[datetime | None] = mapped_column(index=True)
    banned_at: Mapped[datetime | None]


class LiveSession(Base):
    """An SFTP or FTP session open on an instance: counted against GGA_MAX_SESSIONS_PER_SENDER."""

    __tablename__ = "live_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("senders.id", ondelete="CASCADE"), index=True)
    instance: Mapped[str] = mapped_column(String(64), index=True)
    protocol: Mapped[str] = mapped_column(String(6))
    remote_address: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    # refreshed by its instance's session watch: rows a crashed instance left stop counting once this is old
    seen_at: Mapped[datetime | None] = mapped_column(default=utcnow)


def banned_until(session: Session, address: str, now: datetime) -> datetime | None:
    """When the ban of ``address`` ends, or None if it is not banned now."""
    until = session.scalar(select(DefenderAddress.banned_until).where(DefenderAddress.address == address))
    return until if until is not None and until > now else None


def count_failure(session: Session, address: str, now: datetime, max_failures: int, window_s: int,
                  ban_s: int) -> datetime | None:
    """One more failed login from ``address``; returns the end of the ban it has just earned, else None. Racing
    instances queue on the row (FOR UPDATE on PostgreSQL, the write lock on SQLite)."""
    row = session.get(DefenderAddress, address, with_for_update=True)
    if row is None:
        try:
            with session.begin_nested():
                session.add(row := DefenderAddress(address=address, failures=0, window_start=now))
        except IntegrityError:  # another instance made it first
            row = session.get(DefenderAddress, address, with_for_update=True, populate_existing=True)
            assert row is not None
    if row.window_start <= now - timedelta(seconds=window_s):
        row.failures, row.window_start = 0, now
    row.failures += 1
    if row.failures < max_failures:
        return None
    row.failures, row.window_start = 0, now
    row.banned_at, row.banned_until = now, now + timedelta(seconds=ban_s)
    # a ban is rare: the moment to forget addresses whose window and ban are over
    session.execute(delete(DefenderAddress).where(
        DefenderAddress.window_start < now - timedelta(seconds=window_s),
        (DefenderAddress.banned_until.is_(None)) | (DefenderAddress.banned_until < now)))
    return row.banned_until



def allowed_networks(spec: str) -> list[Network]:
    """``GGA_DEFENDER_ALLOW``: comma-separated CIDRs."""
    return [ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip()]


def is_allowed(address: str, networks: list[Network]) -> bool:
    """Never counted nor banned: an allow-listed network, or no address at all (a peer the socket did not name)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return True
    return any(ip in net for net in networks)
