"""Sessions open on this instance, each with a way to end it, and a row per session in ``live_sessions``.

A block is a row in the database, so a watch on every instance ends the sessions of a sender blocked anywhere:
within ``GGA_SESSION_CHECK_S`` plus the time a front end needs to close a connection. The session rows cap the
sessions of one technical user across instances (``GGA_MAX_SESSIONS_PER_SENDER``); an instance removes its own rows
when it starts (what a crash left) and when it stops, and its watch vouches for them every round (``seen_at``): the
rows of an instance that crashed and stays down stop counting after ten missed rounds (at least 60 s).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import Session

from gateway.core.session import GatewaySession
from gateway.core.translog import TransferLog
from kernel.clock import utcnow
from kernel.errors import ErrorCode, GGAError
from store.database import Database
from store.directory import SenderDirectory
from store.models import LiveSession, Sender

log = logging.getLogger("gga.sessions")


class LiveSessions:
    def __init__(self, directory: SenderDirectory, translog: TransferLog, every_s: float, db: Database,
                 instance: str, max_per_sender: int = 0, siblings: str | None = None):
        self.directory, self.translog, self.every_s = directory, translog, every_s
        self.db, self.instance, self.max_per_sender = db, instance, max_per_sender
        self.siblings = siblings  # workers of one `gga serve`: instances named ``<siblings>-w<n>``
        self.stale_after = timedelta(seconds=max(60.0, 10 * every_s))  # many missed rounds: a dead instance's
        self._sessions: dict[int, tuple[GatewaySession, Callable[[GGAError], None]]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._watch: threading.Thread | None = None

    def add(self, session: GatewaySession, end: Callable[[GGAError], None]) -> int:
        """Register a session; ``end`` must be safe to call from any thread (it closes the connection, telling the
        client the error where its protocol can). Blocking
        (database). Past the sender's cap: ``TOO_MANY_SESSIONS``, logged, and nothing registered."""
        try:
            key = self._claim(session)
        except GGAError as err:
            self._log_refusal(session, err)
            raise
        with self._lock:
            self._sessions[key] = (session, end)
            if self._watch is None and not self._stopping.is_set():
                self._watch = threading.Thread(target=self._run, name="session-watch", daemon=True)
                self._watch.start()
        return key

    def refuse_if_full(self, session: GatewaySession) -> None:
        """``add``'s refusal, checked without claiming anything (a key offered before its signature proves it):
        the row itself is claimed once the login is proven, and ``add`` checks again then."""
        with self.db.read() as db:
            try:
                self._refuse_past_cap(db, session.sender.id)
            except GGAError as err:
                self._log_refusal(session, err)
                raise

    def _claim(self, session: GatewaySession) -> int:
        """The session's row, counted with the sender's others on every instance: racing logins of one sender
        queue on its row (FOR UPDATE on PostgreSQL, the write lock on SQLite)."""
        sender_id = session.sender.id
        with self.db.session() as db:
            db.execute(select(Sender.id).where(Sender.id == sender_id).with_for_update())
            db.execute(delete(LiveSession).where(LiveSession.sender_id == sender_id, self._stale()))
            self._refuse_past_cap(db, sender_id)
            row = LiveSession(sender_id=sender_id, instance=self.instance, protocol=session.protocol,
                              remote_address=session.remote[:64])
            db.add(row)
            db.flush()
            return row.id

    def _refuse_past_cap(self, db: Session, sender_id: int) -> None:
        open_now = db.scalar(select(func.count()).select_from(LiveSession)
                             .where(LiveSession.sender_id == sender_id, ~self._stale())) or 0
        if 0 < self.max_per_sender <= open_now:
            raise GGAError(ErrorCode.TOO_MANY_SESSIONS, f"At most {self.max_per_sender} sessions at once for one "
                           "technical user; close one first.", {"max_sessions": self.max_per_sender})

    def _stale(self) -> ColumnElement[bool]:
        """Rows no instance vouched for lately (a crashed one that stays down), or from before seen_at existed."""
        return or_(LiveSession.seen_at.is_(None), LiveSession.seen_at < utcnow() - self.stale_after)

    def vouch(self) -> None:
        """This instance's rows are still open sessions (each watch round). Blocking."""
        with self._lock:
            if not self._sessions:
                return
        with self.db.session() as db:
            db.execute(update(LiveSession).where(LiveSession.instance == self.instance).values(seen_at=utcnow()))

    def _log_refusal(self, session: GatewaySession, err: GGAError) -> None:
        self.translog.record("session", "refused", protocol=session.protocol, error_code=str(err.code),
                             max_sessions=self.max_per_sender, **session.log_fields())

    def remove(self, key: int) -> None:
        """Blocking (database)."""
        with self._lock:
            self._sessions.pop(key, None)
        with self.db.session() as db:
            db.execute(delete(LiveSession).where(LiveSession.id == key))

    def forget_instance(self) -> int:
        """Remove this instance's session rows (at start: what a crash left; at stop). Blocking."""
        with self.db.session() as db:
            return db.execute(delete(LiveSession).where(LiveSession.instance == self.instance)).rowcount

    def by_protocol(self) -> dict[str, int]:
        """Sessions open on this instance by protocol (SFTP, FTP and FTPS always named); with workers, on all the
        workers of this instance (their rows: a scrape reaches one worker)."""
        if self.siblings is not None:
            with self.db.read() as db:
                protocols = list(db.scalars(select(LiveSession.protocol).where(
                    LiveSession.instance.like(f"{self.siblings}-w%"))))
        else:
            with self._lock:
                protocols = [session.protocol for session, _ in self._sessions.values()]
        counts = dict.fromkeys(("SFTP", "FTP", "FTPS"), 0)
        for protocol in protocols:
            counts[protocol] = counts.get(protocol, 0) + 1
        return counts

    def end_blocked(self) -> int:
        """End every live session whose sender has been blocked or deleted since it logged in, or whose channel
        was removed (it could still read and delete that channel's return files)."""
        with self._lock:
            live = dict(self._sessions)
        active = self.directory.active_among({s.sender.id for s, _ in live.values()})
        working = {sender for sender, _ in active}
        ended = 0
        for key, (session, end) in live.items():
            if (session.sender.id, session.channel) in active:
                continue
            code = ErrorCode.CHANNEL_NOT_REGISTERED if session.sender.id in working else ErrorCode.SENDER_BLOCKED
            self.remove(key)
            try:
                end(GGAError(code))
            except Exception:
                log.exception("ending a blocked sender's session")
            self.translog.record("session", "ended", protocol=session.protocol, error_code=str(code),
                                 **session.log_fields())
            ended += 1
        return ended

    def _run(self) -> None:
        while not self._stopping.wait(self.every_s):
            try:
                self.vouch()
                self.end_blocked()
            except Exception:  # the database may be away for a moment: try again at the next tick
                log.exception("session watch")

    def stop(self) -> None:
        self._stopping.set()
        if self._watch is not None:
            self._watch.join(timeout=5)
        self.forget_instance()
