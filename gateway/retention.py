"""Retention: what the gateway keeps only for a while (docs/operations.md, "Retention").

Return files not picked up, the rejected and cancelled archives, transfer-log rows, used assertions and expired
web-service tokens, published outbox events and sent (or given-up) mails, orphan ``.partial`` data files. One
instance at a time runs it (a PostgreSQL advisory lock, or a file lock beside the SQLite database); the others
skip that round.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, text

from gateway.core.metrics import RETENTION_PURGED
from gateway.core.reservation import orphan_claim, same_file
from gateway.core.spool import PARTIAL, is_temporary
from gateway.naming import RETURN_FOLDERS
from kernel.clock import utcnow
from kernel.settings import Settings
from store.database import Database
from store.models import OutboxEvent, OutboxMail, ServiceToken, TransferEvent, UsedAssertion

log = logging.getLogger("gga.retention")

LOCK_KEY = 7242027  # pg advisory lock of the retention round (migrations use 7242026)
KINDS = ("returns", "rejected", "cancelled", "transfer_log", "used_assertions", "service_tokens", "outbox_events",
         "outbox_mails", "partial", "temporaries")
TEMPORARY_AGE_S = 3600  # a file being placed lives milliseconds under its hidden name; one this old was a crash's


def run_retention(db: Database, spool_root: Path, settings: Settings, now: datetime | None = None) -> dict[str, int]:
    """One round: removes what is older than the settings and nothing else; returns the count per kind, each
    logged on one line and counted (``gga_retention_purged_total``)."""
    now = now or utcnow()
    moment = now.timestamp()
    returns_before = moment - settings.retention_returns_days * 86400
    archives_before = moment - settings.retention_archives_days * 86400
    mailboxes = spool_root / "mailboxes"
    returns = [folder for name in RETURN_FOLDERS.values() for folder in mailboxes.glob(f"*/*/{name}")]
    counts = {
        "returns": _purge_files(returns, returns_before),
        "rejected": _purge_files([spool_root / "rejected"], archives_before),
        "cancelled": _purge_files([spool_root / "cancelled"], archives_before),
    }
    log_before = now - timedelta(days=settings.retention_transfer_log_days)
    with db.session() as session:
        counts["transfer_log"] = session.execute(delete(TransferEvent).where(TransferEvent.at < log_before)).rowcount
        counts["used_assertions"] = session.execute(
            delete(UsedAssertion).where(UsedAssertion.expires_at < now)).rowcount
        counts["service_tokens"] = session.execute(delete(ServiceToken).where(ServiceToken.expires_at < now)).rowcount
        # published events and sent (or given up) mails, as long as the transfer log: a row per accepted submission
        # and per mail grew for ever, and with them the relay's and the pump's scans
        counts["outbox_events"] = session.execute(delete(OutboxEvent).where(
            OutboxEvent.published_at < log_before)).rowcount
        counts["outbox_mails"] = session.execute(delete(OutboxMail).where(
            ((OutboxMail.sent_at.is_not(None)) & (OutboxMail.sent_at < log_before))
            | ((OutboxMail.sent_at.is_(None)) & (OutboxMail.created_at < log_before)
               & (OutboxMail.created_at < now - timedelta(hours=settings.mail_retry_h))))).rowcount
    counts["partial"] = sum(_purge_partial(p, moment - 2 * settings.idle_timeout_s)
                            for p in mailboxes.glob(f"*/*/{PARTIAL}"))
    counts["temporaries"] = _purge_temporaries([*returns, spool_root / "rejected", spool_root / "cancelled",
                                                settings.resolved_data_dir / "applications"], moment - TEMPORARY_AGE_S)
    for kind in KINDS:
        log.info("retention purged %d %s", counts[kind], kind, extra={"context": {"kind": kind, "count": counts[kind]}})
        RETENTION_PURGED.labels(kind).inc(counts[kind])
    return counts


def _purge_files(roots: list[Path], before: float) -> int:
    """Regular files under ``roots`` last modified before ``before``, then the folders that left empty (never the
    roots themselves)."""
    removed = 0
    for root in roots:
        if not root.is_dir():
            continue
        for folder, _dirs, files in os.walk(root, topdown=False):
            # a folder is removed only if it was old already: a fresh one may be about to receive a file
            old = False
            with contextlib.suppress(FileNotFoundError):
                old = Path(folder).stat().st_mtime < before
            for name in files:
                path = Path(folder, name)
                with contextlib.suppress(FileNotFoundError):
                    st = path.lstat()
                    if st.st_mtime < before and not path.is_symlink():
                        path.unlink()
                        removed += 1
            if old and Path(folder) != root:
                with contextlib.suppress(OSError):  # not empty, or gone
                    os.rmdir(folder)
    return removed


def _purge_temporaries(roots: list[Path], before: float) -> int:
    """The hidden files a crash left while files were being placed (spool.Placement: written or linked under a
    temporary name, then renamed into place) in the folders it places files into; nothing else."""
    removed = 0
    for root in roots:
        for folder, _dirs, files in os.walk(root):
            for name in files:
                if is_temporary(name):
                    path = Path(folder, name)
                    with contextlib.suppress(FileNotFoundError):
                        if path.lstat().st_mtime < before:
                            path.unlink()
                            removed += 1
    return removed


def _purge_partial(partial: Path, before: float) -> int:
    """Uploads' data files (``.partial/@<instance>/<random>.<name>``) nobody wrote to since ``before`` or whose
    name claim is gone, and claims whose data file is gone. Age is required in every case: a claim is made just
    after its data file, and a live upload writes to its file (reservation.py)."""
    removed = 0
    for data in partial.glob("@*/*"):
        with contextlib.suppress(FileNotFoundError):
            if data.lstat().st_mtime >= before:
                continue
            claim = partial / data.name.split(".", 1)[-1]
            if same_file(claim, data):
                claim.unlink()  # a dead instance's claim goes with its data
            data.unlink()
            removed += 1
    for claim in partial.iterdir():
        with contextlib.suppress(FileNotFoundError):
            if orphan_claim(claim) and claim.lstat().st_mtime < before:
                claim.unlink()
    return removed


@contextlib.contextmanager
def exclusive(db: Database) -> Iterator[bool]:
    """True for the one instance that may run a round now, False for the others (they skip it)."""
    if db.url.startswith("postgresql"):
        with db.engine.connect() as conn:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar())
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
                    conn.commit()
        return
    path = db.url.split("///", 1)[-1]
    if not path or path == ":memory:":
        yield True
        return
    fd = os.open(f"{path}.retention-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def run_exclusive(db: Database, spool_root: Path, settings: Settings,
                  now: datetime | None = None) -> dict[str, int] | None:
    """A round if no other instance runs one now, else None."""
    with exclusive(db) as mine:
        if not mine:
            log.info("retention skipped: another instance runs it")
            return None
        return run_retention(db, spool_root, settings, now)


class RetentionTimer:
    """A daemon thread running a round every ``GGA_RETENTION_EVERY_S`` (the first one at start)."""

    def __init__(self, db: Database, spool_root: Path, settings: Settings):
        self.db, self.spool_root, self.settings = db, spool_root, settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="gga-retention", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                run_exclusive(self.db, self.spool_root, self.settings)
            except Exception:  # a failed round is logged and tried again next time
                log.exception("retention round failed")
            self._stop.wait(self.settings.retention_every_s)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
