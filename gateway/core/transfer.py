"""Transfers, the same for every protocol: where files may go, the one end of an upload, downloads and pick-ups.

Front ends say what the client asked and how an upload ended; the rules, the settling and the transfer log are
here, once (as SFTPGo's one ``BaseTransfer``). Errors are ``GGAError``s each front end maps to its protocol.
Everything here is blocking (disk, database): call it from a worker thread.
"""

from __future__ import annotations

import logging
import os
import posixpath
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from gateway.core.session import GatewaySession
from gateway.core.translog import TransferLog
from gateway.core.upload import SMALL_FILE_LIMIT, BackgroundUpload, ReceivedUpload, Upload, size_limit
from gateway.naming import RETURN_FOLDERS, UPLOAD_FOLDERS, BatchName, parse
from kernel.errors import ErrorCode, GGAError
from kernel.settings import Settings

RETURN_SET = frozenset(RETURN_FOLDERS.values())
log = logging.getLogger("gga.settle")


class UploadEnd(StrEnum):
    """How the protocol saw an upload end; only the core decides what that means for the file."""

    COMPLETED = "completed"  # the client closed the file (FTP also says so for a dropped data connection)
    CLIENT_GONE = "client_gone"  # the connection dropped, ABOR, or fewer bytes came than announced


class Intake(Protocol):
    """Where settled uploads go (the intake pipeline)."""

    def received(self, upload: ReceivedUpload) -> None:
        """Fsync the upload's folder (its file is fsynced and linked there) and record it; return once committed."""

    def received_soon(self, finish: Callable[[], ReceivedUpload], folder: Path) -> Future[ReceivedUpload]:
        """``received`` without blocking: ``finish`` (fsync, link into ``folder``) and the record done by the intake's
        writer; resolved once committed. Not for TDs."""

    def refused(self, s: GatewaySession, folder: str, name: BatchName, code: ErrorCode, size: int) -> None: ...

    def interrupted(self, s: GatewaySession, name: str, size: int) -> None: ...


class Download:
    """A return file being read; ``Transfers.end_download`` logs it once, after the last byte, with its size."""

    def __init__(self, session: GatewaySession, path: Path):
        self.session, self.path = session, path
        self.fd = os.open(path, os.O_RDONLY)
        self.size = os.fstat(self.fd).st_size
        self.started = time.monotonic()
        self.sent = 0  # the furthest byte handed to the client: complete once it is the size
        self.transferred = 0  # bytes handed over (a resumed download, REST, starts past 0): what is logged
        self.position = 0  # for sequential readers (FTP, HTTP)
        self.closed = False

    def read(self, offset: int, size: int) -> bytes:
        data = os.pread(self.fd, size, offset)
        self.sent = max(self.sent, offset + len(data))
        self.transferred += len(data)
        return data

    def read_next(self, size: int) -> bytes:
        data = self.read(self.position, size if size >= 0 else self.size)
        self.position += len(data)
        return data

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self.fd)


class Transfers:
    def __init__(self, intake: Intake, translog: TransferLog, settings: Settings):
        self.intake, self.translog, self.settings = intake, translog, settings
        self.owner = settings.resolved_instance_id  # once: it asks the host's name each time
        self._open: set[int] = set()  # uploads opened and not yet settled: what a drain waits for
        self._open_lock = threading.Lock()
        # settle_soon's other ends (large files, TDs, failures), as many threads as asyncio's default pool
        self._slow = ThreadPoolExecutor(max_workers=min(32, (os.cpu_count() or 1) + 4), thread_name_prefix="settle")

    def close(self) -> None:
        """At a stop: the settles under way end (their uploads kept and recorded, or discarded and logged)."""
        self._slow.shutdown(wait=True)

    @property
    def in_flight(self) -> int:
        with self._open_lock:
            return len(self._open)

    # -- uploads ---------------------------------------------------------------------------------------------
    def open_upload(self, session: GatewaySession, path: str, *, background: bool = False) -> Upload:
        """An upload into IN, INTEST or INTEST-S under a batch name; refusals are logged and raised."""
        try:
            return self.start_upload(session, path, background=background)
        except GGAError as err:
            self.log_refusal(session, "upload", path, err)
            raise

    def start_upload(self, session: GatewaySession, path: str, *, background: bool = False) -> Upload:
        """``open_upload`` without the database: the name checked and claimed, the spool file made (a few
        metadata calls, no fsync). A refusal is raised for the caller to ``log_refusal``."""
        folder, name = _upload_target(session, path)
        limit = size_limit(name, self.settings.max_file_mb)
        upload = (BackgroundUpload if background else Upload)(
            session, folder, name, limit, owner=self.owner,
            stale_after_s=2 * self.settings.idle_timeout_s)
        if (session.home / folder / str(name)).exists():  # checked with the name claimed: no race
            upload.discard()
            raise GGAError(ErrorCode.FILE_ALREADY_RECEIVED, details={"file_name": str(name)})
        with self._open_lock:
            self._open.add(id(upload))
        return upload

    def settle(self, upload: Upload, end: UploadEnd) -> ReceivedUpload:
        """The one end of every upload: kept and handed to the intake, or discarded and logged. Returns once
        the file is durable and recorded (only then may the protocol say it is received); raises otherwise."""
        try:
            return self._settle(upload, end)
        finally:
            self._forget(upload)

    def settle_soon(self, upload: Upload, end: UploadEnd) -> Future[ReceivedUpload]:
        """``settle`` without blocking the caller (an event loop): the future is resolved as ``settle`` would return
        or raise. The usual end, a small upload completed, is made durable and recorded by the intake's group commit
        writer, with no thread of the caller's in between; every other end is settled on a thread here."""
        if not _quick(upload, end):
            return self._on_slow(self.settle, upload, end)
        outcome: Future[ReceivedUpload] = Future()

        def finish() -> ReceivedUpload:
            try:
                return upload.finish()
            except (GGAError, OSError) as err:
                raise _NotStored(err) from err

        def settled(recorded: Future[ReceivedUpload]) -> None:  # on the writer: anything slow goes to a thread
            if recorded.exception() is not None:
                self._on_slow(self._failed, upload, recorded.exception(), outcome)
                return
            try:
                upload.release()
            except OSError:  # recorded and durable all the same: a claim left behind is cleared at the next start
                log.exception("releasing the claim of %s", upload.name)
            self._forget(upload)
            outcome.set_result(recorded.result())

        try:
            recording = self.intake.received_soon(finish, upload.session.home / upload.folder)
        except Exception as exc:  # not handed over (the writer could not start): refused, nothing kept
            self._on_slow(self._failed, upload, exc, outcome)
            return outcome
        recording.add_done_callback(settled)
        return outcome

    def _on_slow(self, work: Callable[..., Any], *args: Any) -> Future[Any]:
        """``work`` on a settle thread; on the caller's once they are shut down (a stop: the group commit's last
        batches end after them, and a failed record must still be discarded, logged and answered)."""
        try:
            return self._slow.submit(work, *args)
        except RuntimeError:
            done: Future[Any] = Future()
            try:
                done.set_result(work(*args))
            except BaseException as exc:
                done.set_exception(exc)
            return done

    def _failed(self, upload: Upload, exc: BaseException | None, outcome: Future[ReceivedUpload]) -> None:
        """As ``_settle`` does when the disk or the database fails: nothing half is kept, the client is told."""
        try:
            outcome.set_exception(self._not_stored(upload, exc.args[0]) if isinstance(exc, _NotStored)
                                  else self._not_recorded(upload))
        except Exception as failure:
            outcome.set_exception(failure)
        finally:
            self._forget(upload)

    def _forget(self, upload: Upload) -> None:
        with self._open_lock:
            self._open.discard(id(upload))

    def _settle(self, upload: Upload, end: UploadEnd) -> ReceivedUpload:
        s = upload.session
        if upload.failed is not None and upload.failed.code == ErrorCode.FILE_TOO_LARGE:
            upload.discard()  # refused while streaming: the GO's ACRF will name it
            self.intake.refused(s, upload.folder, upload.name, upload.failed.code, upload.size)
            raise upload.failed
        if upload.failed is not None or end is UploadEnd.CLIENT_GONE:  # a disk error, or the client left
            upload.discard()
            self.intake.interrupted(s, str(upload.name), upload.size)
            raise upload.failed or GGAError(ErrorCode.UPLOAD_INCOMPLETE)
        try:
            received = upload.finish()
        except (GGAError, OSError) as err:
            raise self._not_stored(upload, err) from err
        try:
            self.intake.received(received)
        except Exception as err:
            raise self._not_recorded(upload) from err
        upload.release()
        return received

    def _not_stored(self, upload: Upload, err: GGAError | OSError) -> GGAError:
        """The disk failed us (or the name was taken meanwhile): nothing half is kept; the error to answer."""
        upload.discard()
        self.intake.interrupted(upload.session, str(upload.name), upload.size)
        if isinstance(err, GGAError):
            return err
        return GGAError(ErrorCode.UPLOAD_INCOMPLETE, f"Not stored: {err.strerror or 'disk error'}.")

    def _not_recorded(self, upload: Upload) -> GGAError:
        """Not recorded, so not kept: the sender may send it again under its name; the error to answer."""
        upload.discard()
        return GGAError(ErrorCode.UPLOAD_INCOMPLETE, "Not recorded; send the file again.")

    # -- return files ----------------------------------------------------------------------------------------
    def open_download(self, session: GatewaySession, path: str) -> Download:
        try:
            return Download(session, return_file(session, path))
        except GGAError as err:
            self.log_refusal(session, "download", path, err)
            raise

    def end_download(self, download: Download) -> None:
        """Logged once for every protocol, after the last byte (or when the client went away): complete when every
        byte of the file went out, whatever the protocol thought of the ending."""
        download.close()
        s = download.session
        complete = download.sent >= download.size
        self.translog.record("download", "ok" if complete else "incomplete", protocol=s.protocol,
                             file_name=download.path.name, size=download.transferred,
                             duration_ms=int((time.monotonic() - download.started) * 1000), **s.log_fields())

    def pick_up(self, session: GatewaySession, path: str) -> None:
        """Deleting a return file is picking it up: checked, removed, logged."""
        try:
            target = return_file(session, path)
            try:
                size = target.stat().st_size
                target.unlink()
            except FileNotFoundError:  # picked up by another client between the check and here
                raise not_found(target.name, path) from None
        except GGAError as err:
            self.log_refusal(session, "delete", path, err)
            raise
        self.translog.record("delete", "ok", protocol=session.protocol, file_name=target.name, size=size,
                             **session.log_fields())

    def list_returns(self, session: GatewaySession, folder: str) -> list[tuple[str, int, float]]:
        """(name, size, mtime) of the files waiting in a return folder, by name."""
        if folder not in RETURN_SET:
            raise GGAError(ErrorCode.PATH_NOT_ALLOWED, f"{folder} is not a return folder.")
        entries = [e for e in os.scandir(session.home / folder) if e.is_file() and not e.name.startswith(".")]
        return sorted(((e.name, e.stat().st_size, e.stat().st_mtime) for e in entries), key=lambda t: t[0])

    def log_refusal(self, session: GatewaySession, event: str, path: str, err: GGAError) -> None:
        # the file's name, as for every accepted upload (the log's file_name filter finds both), and where it
        # was asked for beside it
        name = path.rstrip("/").rsplit("/", 1)[-1] or path
        where = {"path": path[:200]} if name != path else {}
        self.translog.record(event, "refused", protocol=session.protocol, error_code=str(err.code),
                             file_name=name[:128], **where, **session.log_fields())


class _NotStored(Exception):
    """``finish`` failed (the disk, or the name taken meanwhile): the upload is refused, nothing of it kept."""


def _quick(upload: Upload, end: UploadEnd) -> bool:
    """The end most uploads have: completed, small, streamed on the caller's thread, and no TD (whose cancelling
    is a database job of its own before the answer)."""
    return (end is UploadEnd.COMPLETED and upload.failed is None and type(upload) is Upload
            and upload.size <= SMALL_FILE_LIMIT and upload.name.kind != "TD")


def split(path: str) -> tuple[str, str]:
    """``/INTEST/FI...`` -> (``INTEST``, ``FI...``); anything deeper, shallower or escaping is refused."""
    parts = [p for p in PurePosixPath("/" + path.lstrip("/")).parts if p != "/"]
    if len(parts) != 2 or parts[0] not in UPLOAD_FOLDERS | RETURN_SET or parts[1] in (".", "..") \
            or parts[1].startswith("."):
        shown = path if len(path) <= 200 else path[:200] + "..."  # a client's path is not echoed whole
        raise GGAError(ErrorCode.PATH_NOT_ALLOWED, f"{shown}: files live directly in IN, INTEST, INTEST-S, OUT, "
                       "OUTTEST or OUTTEST-S", {"path": path[:200]})
    return parts[0], parts[1]


def _upload_target(session: GatewaySession, path: str) -> tuple[str, BatchName]:
    folder, filename = split(path)
    if folder not in UPLOAD_FOLDERS:
        raise GGAError(ErrorCode.PATH_NOT_ALLOWED, f"{folder} is a return folder: upload into IN, INTEST or "
                       "INTEST-S.", {"path": path})
    name = parse(filename)
    if name.kind in ("FO", "CO"):
        raise GGAError(ErrorCode.FILE_NAME_INVALID, f"{filename}: FO and CO are return files; send FI, FS, GO "
                       "or TD.", {"file_name": filename})
    return folder, name


def visible(path: str) -> None:
    """Refuses a path with a hidden name anywhere in it (the reservations and half files under ``.partial``) or a
    NUL: what every protocol's path-only requests (listings, stat, CWD) may look at."""
    if "\0" in path or any(part.startswith(".") for part in posixpath.normpath("/" + path).split("/")):
        raise GGAError(ErrorCode.PATH_NOT_ALLOWED, "Only the mailbox folders and their files are visible.",
                       {"path": path[:200]})


def not_found(name: str, path: str) -> GGAError:
    """FILE_NOT_FOUND for a file asked for by ``path`` (``name``: what the message shows)."""
    return GGAError(ErrorCode.FILE_NOT_FOUND, f"{name[-200:]}: no such file.", {"path": path[:200]})


def return_file(session: GatewaySession, path: str) -> Path:
    """A file of a return folder, for reading or deleting."""
    folder, filename = split(path)
    if folder not in RETURN_SET:
        raise GGAError(ErrorCode.PATH_NOT_ALLOWED, f"{folder} is an upload folder: read and delete only in OUT, "
                       "OUTTEST or OUTTEST-S.", {"path": path})
    target = session.home / folder / filename
    try:
        found = target.is_file()
    except OSError:  # a name longer than the file system takes (Python 3.11 raises there)
        found = False
    if not found:
        raise not_found(filename, path)
    return target
