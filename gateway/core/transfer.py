"""Transfers shared by every protocol: what may be uploaded where, streaming to disk with the digest, durable
close; downloads and deletions of return files. Errors are GGAErrors; each front end maps them to its protocol."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from admin_api.catalogue import APPLICATIONS
from gateway.core.session import GatewaySession
from gateway.core.spool import PARTIAL, fsync_dir
from gateway.naming import RETURN_FOLDERS, UPLOAD_FOLDERS, BatchName, parse
from gga.errors import ErrorCode, GGAError

SMALL_FILE_LIMIT = 1 << 20  # FS signatures; GO and TD are empty triggers
WRITEBACK_STEP = 8 << 20  # start writing received bytes to disk every 8 MiB, so the final fsync is short
RETURN_SET = frozenset(RETURN_FOLDERS.values())


def split(path: str) -> tuple[str, str]:
    """``/INTEST/FI...`` -> (``INTEST``, ``FI...``); anything deeper, shallower or escaping is refused."""
    parts = [p for p in PurePosixPath("/" + path.lstrip("/")).parts if p != "/"]
    if len(parts) != 2 or parts[0] not in UPLOAD_FOLDERS | RETURN_SET or parts[1] in (".", "..") \
            or parts[1].startswith("."):
        raise GGAError(ErrorCode.PATH_NOT_ALLOWED, f"{path}: files live directly in IN, INTEST, INTEST-S, OUT, "
                       "OUTTEST or OUTTEST-S", {"path": path[:200]})
    return parts[0], parts[1]


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


class Upload:
    """Bytes streaming into ``<home>/.partial``; ``finish`` makes them durable under their name."""

    def __init__(self, session: GatewaySession, folder: str, name: BatchName, limit: int):
        self.session, self.folder, self.name, self.limit = session, folder, name, limit
        self.sha256 = hashlib.sha256()  # the digest the signature check uses: no second read of the file
        self.started = time.monotonic()
        self.tmp = session.home / PARTIAL / f"{secrets.token_hex(8)}.{name}"
        self.fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.size = 0
        self.written_back = 0
        self.failed: GGAError | None = None

    def write(self, offset: int, data: bytes) -> None:
        if self.failed:
            raise self.failed
        if offset != self.size:
            raise GGAError(ErrorCode.UPLOAD_INCOMPLETE, f"Uploads are written in order (offset {offset}, "
                           f"{self.size} bytes received).")
        if self.size + len(data) > self.limit:
            self.failed = GGAError(ErrorCode.FILE_TOO_LARGE, f"{self.name}: over {self.limit >> 20} MiB "
                                   f"({self.limit} bytes).", {"limit": self.limit})
            raise self.failed
        self.sha256.update(data)
        written = os.write(self.fd, data)
        if written < len(data):  # rare short write: finish it
            view = memoryview(data)[written:]
            while view:
                view = view[os.write(self.fd, view):]
        self.size += len(data)
        if self.size - self.written_back >= WRITEBACK_STEP:
            # DONTNEED on dirty pages starts their writeback now (and frees them once clean)
            os.posix_fadvise(self.fd, self.written_back, self.size - self.written_back, os.POSIX_FADV_DONTNEED)
            self.written_back = self.size

    def finish(self) -> ReceivedUpload:
        """fsync, then rename into the folder: only now does the file exist (blocking: off the loop)."""
        try:
            os.fsync(self.fd)
        finally:
            os.close(self.fd)
        target = self.session.home / self.folder / str(self.name)
        os.replace(self.tmp, target)
        fsync_dir(target.parent)
        return ReceivedUpload(self.session, self.folder, self.name, target, self.size, self.sha256.hexdigest(),
                              int((time.monotonic() - self.started) * 1000))

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)
        self.tmp.unlink(missing_ok=True)


def open_upload(session: GatewaySession, path: str, max_file_mb: int | None) -> Upload:
    folder, filename = split(path)
    if folder not in UPLOAD_FOLDERS:
        raise GGAError(ErrorCode.PATH_NOT_ALLOWED, f"{folder} is a return folder: upload into IN, INTEST or "
                       "INTEST-S.", {"path": path})
    name = parse(filename)
    if name.kind in ("FO", "CO"):
        raise GGAError(ErrorCode.FILE_NAME_INVALID, f"{filename}: FO and CO are return files; send FI, FS, GO "
                       "or TD.", {"file_name": filename})
    if (session.home / folder / filename).exists():
        raise GGAError(ErrorCode.FILE_ALREADY_RECEIVED, details={"file_name": filename})
    return Upload(session, folder, name, size_limit(name, max_file_mb))


def return_file(session: GatewaySession, path: str) -> Path:
    """A file of a return folder, for reading or deleting (deleting = picked up)."""
    folder, filename = split(path)
    if folder not in RETURN_SET:
        raise GGAError(ErrorCode.PATH_NOT_ALLOWED, f"{folder} is an upload folder: read and delete only in OUT, "
                       "OUTTEST or OUTTEST-S.", {"path": path})
    target = session.home / folder / filename
    if not target.is_file():
        raise GGAError(ErrorCode.FILE_NOT_FOUND, f"{path}: no such file.", {"path": path})
    return target
