"""Sessions open on this instance, each with a way to end it.

A block is a row in the database, so a watch on every instance ends the sessions of a sender blocked anywhere:
within ``GGA_SESSION_CHECK_S`` plus the time a front end needs to close a connection.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable

from gateway.core.session import GatewaySession
from gateway.core.translog import TransferLog
from kernel.errors import ErrorCode
from store.directory import SenderDirectory

log = logging.getLogger("gga.sessions")


class LiveSessions:
    def __init__(self, directory: SenderDirectory, translog: TransferLog, every_s: float):
        self.directory, self.translog, self.every_s = directory, translog, every_s
        self._sessions: dict[int, tuple[GatewaySession, Callable[[], None]]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._watch: threading.Thread | None = None

    def add(self, session: GatewaySession, end: Callable[[], None]) -> int:
        """Register a session; ``end`` must be safe to call from any thread (it closes the connection)."""
        with self._lock:
            key = next(self._ids)
            self._sessions[key] = (session, end)
            if self._watch is None and not self._stopping.is_set():
                self._watch = threading.Thread(target=self._run, name="session-watch", daemon=True)
                self._watch.start()
        return key

    def remove(self, key: int) -> None:
        with self._lock:
            self._sessions.pop(key, None)

    def count(self) -> int:
        with self._lock:
            return len(self._sessions)

    def end_blocked(self) -> int:
        """End every live session whose sender has been blocked or deleted since it logged in."""
        with self._lock:
            live = dict(self._sessions)
        active = self.directory.active_among({s.sender.id for s, _ in live.values()})
        ended = 0
        for key, (session, end) in live.items():
            if session.sender.id in active:
                continue
            self.remove(key)
            try:
                end()
            except Exception:
                log.exception("ending a blocked sender's session")
            self.translog.record("session", "ended", protocol=session.protocol,
                                 error_code=str(ErrorCode.SENDER_BLOCKED), **session.log_fields())
            ended += 1
        return ended

    def _run(self) -> None:
        while not self._stopping.wait(self.every_s):
            try:
                self.end_blocked()
            except Exception:  # the database may be away for a moment: try again at the next tick
                log.exception("session watch")

    def stop(self) -> None:
        self._stopping.set()
        if self._watch is not None:
            self._watch.join(timeout=5)
