"""Per-listener limits the SFTP and FTP front ends share: open connections per address, and refusals logged once
per burst, so a flood of refused connections is a few log lines, not a write per attempt."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter


class ConnectionsPerAddress:
    """Open connections per remote address on one listener (asyncssh counts none itself)."""

    def __init__(self, limit: int):
        self.limit = limit
        self._open: Counter[str] = Counter()

    def acquire(self, address: str) -> bool:
        """False past the limit (0: no limit)."""
        if 0 < self.limit <= self._open[address]:
            return False
        self._open[address] += 1
        return True

    def release(self, address: str) -> None:
        self._open[address] -= 1
        if self._open[address] <= 0:
            del self._open[address]


class RefusalBursts:
    """Which refusals to log: the first of a burst per key (an address), then silence for ``quiet_s``; the next line
    says how many were refused unlogged in between. Thread-safe (FTP refuses on its acceptor thread)."""

    def __init__(self, quiet_s: float = 60):
        self.quiet_s = quiet_s
        self._seen: dict[str, tuple[float, int]] = {}  # key -> (when last logged, refused since)
        self._lock = threading.Lock()

    def refused(self, key: str) -> int | None:
        """None: stay quiet; else log now, with the number of refusals left unlogged since the last line."""
        now = time.monotonic()
        with self._lock:
            logged, since = self._seen.get(key, (-math.inf, 0))
            if now - logged < self.quiet_s:
                self._seen[key] = (logged, since + 1)
                return None
            self._seen = {k: v for k, v in self._seen.items() if now - v[0] < self.quiet_s}  # bounded by the window
            self._seen[key] = (now, 0)
            return since
