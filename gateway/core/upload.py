"""An upload streaming to the spool: hashed as it arrives, within its size limit, made durable by ``finish``.

Front ends never call ``finish`` or ``discard`` themselves: ``Transfers.settle`` does, once per upload.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from gateway.core.reservation import Reservation
from gateway.core.session import GatewaySession
from gateway.core.spool import PARTIAL
from gateway.naming import BatchName
from kernel.catalogue import APPLICATIONS
from kernel.errors import ErrorCode, GGAError

SMALL_FILE_LIMIT = 1 << 20  # FS signatures; GO and TD are empty triggers
WRITEBACK_STEP = 8 << 20  # start writing received bytes to disk every 8 MiB, so the final fsync is short


def size_limit(name: BatchName, max_file_mb: int | None) -> int:
    if name.kind in ("GO", "TD"):
        return 1024
    if name.kind == "FS":
        return SMALL_FILE_LIMIT
    app = APPLICATIONS.get(name.application)
    mb = max_file_mb or (app.max_size_mb if app else 500)
    return mb << 20


@dataclass
class ReceivedUpload:
    """An upload made durable, handed to the intake pipeline."""

    session: GatewaySession
    folder: str
    name: BatchName
    path: Path
    size: int
    sha256: str
    duration_ms: int
    ticket: str | None = None  # a GO: its submission's ticket (the ACRF's ReferenceNbr)
    acrf_channel: str | None = None  # a GO: the channel whose return folder will hold its ACRF


class Upload:
    """Bytes streaming into ``<home>/.partial``; ``finish`` makes them durable under their name."""

    def __init__(self, session: GatewaySession, folder: str, name: BatchName, limit: int, *, owner: str = "-",
                 stale_after_s: float = 600):
        self.session, self.folder, self.name, self.limit = session, folder, name, limit
        self.sha256 = hashlib.sha256()  # the digest the signature check uses: no second read of the file
        self.started = time.monotonic()
        self.reservation = Reservation(session.home / PARTIAL, str(name), owner, stale_after_s)
        self.fd = self.reservation.fd
        self.kept: Path | None = None
        self.size = 0
        self.written_back = 0
        self.failed: GGAError | None = None

    def write(self, offset: int, data: bytes) -> None:
        self.check(offset, len(data))
        try:
            self.store(data, self.size)
        except OSError as exc:  # disk full...: the upload fails for good, nothing of it is kept
            raise self._disk_failure(exc) from exc
        self.size += len(data)

    def append(self, data: bytes) -> None:
        """For protocols that only stream in order (FTP, HTTP)."""
        self.write(self.size, data)

    def _disk_failure(self, exc: OSError) -> GGAError:
        self.failed = GGAError(ErrorCode.UPLOAD_INCOMPLETE, f"Not stored: {exc.strerror or 'disk error'}.")
        return self.failed

    def announce(self, length: int) -> None:
        """The client said how many bytes will come (HTTP ``Content-Length``): over the limit fails it now."""
        self.check(self.size, length)

    def check(self, offset: int, length: int) -> None:
        """In order, and within the limit; a write out of order or past the limit fails the upload for good (a close
        after it keeps nothing: the bytes before a gap are not the file)."""
        if self.failed:
            raise self.failed
        if offset != self.size:
            self.failed = GGAError(ErrorCode.UPLOAD_INCOMPLETE, f"Uploads are written in order (offset {offset}, "
                                   f"{self.size} bytes received).")
            raise self.failed
        if self.size + length > self.limit:
            over = f"{self.limit >> 20} MiB ({self.limit} bytes)" if self.limit >= 1 << 20 else f"{self.limit} bytes"
            self.failed = GGAError(ErrorCode.FILE_TOO_LARGE, f"{self.name}: over {over}.", {"limit": self.limit})
            raise self.failed

    def store(self, data: bytes, offset: int) -> None:
        """Hash and write one chunk that starts at ``offset``."""
        self.sha256.update(data)
        written = os.write(self.fd, data)
        if written < len(data):  # rare short write: finish it
            view = memoryview(data)[written:]
            while view:
                view = view[os.write(self.fd, view):]
        end = offset + len(data)
        if end - self.written_back >= WRITEBACK_STEP:
            # DONTNEED on dirty pages starts their writeback now (and frees them once clean)
            os.posix_fadvise(self.fd, self.written_back, end - self.written_back, os.POSIX_FADV_DONTNEED)
            self.written_back = end

    def finish(self) -> ReceivedUpload:
        """Link into the folder, then fsync: only now does the file exist (blocking: off the loop). The intake
        fsyncs the folder before it records the file (once for the uploads recorded together), and the client is
        answered after that; a crash before the record leaves a link the next start removes (not recorded)."""
        target = self.session.home / self.folder / str(self.name)
        try:  # a link never replaces: what is kept is exactly the bytes hashed here
            self.reservation.keep_as(target)
            self.kept = target
            # after the link: one fsync makes the bytes and the inode's link count durable together (a count
            # written before the link, once the claim's two names are removed at a restart, freed the file)
            os.fsync(self.fd)
        finally:
            self._close_fd()
        return ReceivedUpload(self.session, self.folder, self.name, target, self.size, self.sha256.hexdigest(),
                              int((time.monotonic() - self.started) * 1000))

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self._close_fd()
        if self.kept is not None:  # linked into its folder but not recorded: not kept
            self.kept.unlink(missing_ok=True)
        self.reservation.release()

    def release(self) -> None:
        """Recorded: the name's claim is no longer needed."""
        self.reservation.release()

    def _close_fd(self) -> None:
        """Once only: a second close could hit a descriptor another thread has since opened."""
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)


class BackgroundUpload(Upload):
    """An ``Upload`` whose hashing and writing run on a thread of their own (both release the GIL).

    Worth it only where the protocol leaves a core idle (plain FTP: the client sends with sendfile); on SFTP the
    client's encryption holds the other core and the hand-off costs more than it saves (docs/performance.md).
    """

    QUEUE_CHUNKS = 64  # at 1 MiB reads: the back-pressure bound on memory per upload

    def __init__(self, session: GatewaySession, folder: str, name: BatchName, limit: int, *, owner: str = "-",
                 stale_after_s: float = 600):
        super().__init__(session, folder, name, limit, owner=owner, stale_after_s=stale_after_s)
        self.queue: queue.Queue[bytes | None] = queue.Queue(self.QUEUE_CHUNKS)
        self.disk_error: OSError | None = None
        self.writer = threading.Thread(target=self._drain, name=f"upload-{name}", daemon=True)
        self.writer.start()

    def write(self, offset: int, data: bytes) -> None:
        if self.disk_error is not None and self.failed is None:
            raise self._disk_failure(self.disk_error)
        self.check(offset, len(data))
        self.size += len(data)
        self.queue.put(data)

    def _drain(self) -> None:
        size = 0
        while (data := self.queue.get()) is not None:
            if self.disk_error is None:
                try:
                    self.store(data, size)
                except OSError as exc:  # disk full...: the upload fails, nothing half is kept
                    self.disk_error = exc
            size += len(data)

    def finish(self) -> ReceivedUpload:
        self._stop()
        if self.disk_error is not None:  # the caller (Transfers.settle) discards it
            raise self._disk_failure(self.disk_error)
        return super().finish()

    def discard(self) -> None:
        self._stop()
        super().discard()

    def _stop(self) -> None:
        if self.writer.is_alive():
            self.queue.put(None)
            self.writer.join()
