"""The brute-force defender of every login path (SFTP, FTP, the web-service token endpoint; the admin API counts
its 401s into the same rows): failed logins per remote address, a ban past the limit.

Counts and bans are rows (``store.models.defence``), so a ban survives a restart and holds on every instance that
shares the database. Blocking: call it from worker threads.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import cached_property

from kernel.clock import utcnow
from kernel.errors import ErrorCode, GGAError
from kernel.settings import Settings
from store.database import Database
from store.models.defence import Network, allowed_networks, banned_until, count_failure, is_allowed

log = logging.getLogger("gga.defender")


def address_of(remote: str) -> str:
    """``203.0.113.9:51234`` or ``::1:51234`` (how the front ends name a peer) -> the address without its port."""
    return remote.rsplit(":", 1)[0].strip("[]") if ":" in remote else remote


class Defender:
    def __init__(self, db: Database, settings: Settings):
        self.db, self.settings = db, settings

    @cached_property
    def allow(self) -> list[Network]:
        return allowed_networks(self.settings.defender_allow)

    def check(self, remote: str) -> None:
        """Raise ``ADDRESS_BANNED`` while the address is banned: before any password work."""
        address = address_of(remote)
        if is_allowed(address, self.allow):
            return
        with self.db.read() as session:  # no write lock: every login asks
            until = banned_until(session, address, utcnow())
        if until is not None:
            raise GGAError(ErrorCode.ADDRESS_BANNED, f"Too many failed logins from {address}: refused until "
                           f"{until:%Y-%m-%dT%H:%M:%SZ}.", {"address": address})

    def failed(self, remote: str, protocol: str) -> datetime | None:
        """Count a failed login; returns the end of the ban it earned, if it did (then logged)."""
        address = address_of(remote)
        if is_allowed(address, self.allow) or self.settings.defender_max_failures <= 0:
            return None
        s = self.settings
        with self.db.session() as session:
            until = count_failure(session, address, utcnow(), s.defender_max_failures, s.defender_window_s,
                                  s.defender_ban_s)
        if until is not None:
            log_ban(address, protocol, until, s.defender_max_failures, s.defender_window_s)
        return until


def log_ban(address: str, protocol: str, until: datetime, failures: int, window_s: int) -> None:
    log.warning("ban address=%s protocol=%s until=%s: %d failed logins within %d s", address, protocol,
                f"{until:%Y-%m-%dT%H:%M:%SZ}", failures, window_s)
