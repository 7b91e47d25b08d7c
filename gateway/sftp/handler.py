"""The jailed SFTP server of one technical user: each call is translated for the shared core, nothing decided here.

Closes, deletions and opens for reading (disk and database) run on other threads (a small upload's close on the
group commit's writer, ``Transfers.settle_soon``). The bytes of ``write`` and ``read``, and the opening of an upload
(no database, no fsync), are handled on the loop, where moving them costs more than it saves (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import time
import weakref
from collections.abc import AsyncIterator, Callable

import asyncssh
from asyncssh import SFTPAttrs, SFTPName

from gateway.core.gateway import Gateway
from gateway.core.session import GatewaySession
from gateway.core.transfer import Download, UploadEnd, not_found, visible
from gateway.core.upload import Upload
from kernel.errors import ErrorCode, GGAError

log = logging.getLogger("gga.sftp")


def sftp_error(err: GGAError) -> asyncssh.SFTPError:
    """One mapping from our codes to SFTP status codes; the message carries the code for the client's log.
    Everything else (UPLOAD_IN_PROGRESS, TOO_MANY_OPEN_FILES, ...) is a plain failure: try again later."""
    reason = f"{err.code}: {err.message}"
    if err.code in (ErrorCode.PATH_NOT_ALLOWED, ErrorCode.COMMAND_NOT_ALLOWED):
        return asyncssh.SFTPPermissionDenied(reason)
    if err.code == ErrorCode.FILE_NOT_FOUND:
        return asyncssh.SFTPNoSuchFile(reason)
    return asyncssh.SFTPFailure(reason)


_BACKGROUND: set[asyncio.Future] = set()


def _session_ending(channel: asyncssh.SSHServerChannel) -> bool:
    """The channel is closing or the client sent its EOF: no request can follow, so a close now is asyncssh's
    clean-up, not the client's. asyncssh says nothing public about a received EOF; its channel state does (a
    regression test fails if that changes). A client that pipelines a close and its EOF without waiting for the
    answer may see that upload refused: it never learnt whether it was kept anyway."""
    return channel.is_closing() or getattr(channel, "_recv_state", "open") != "open"


def in_background(call: Callable[..., object], *args: object, **kwargs: object) -> asyncio.Future:
    """A database write from a synchronous asyncssh callback: on a worker thread, never on the loop."""
    future = asyncio.get_running_loop().run_in_executor(None, functools.partial(call, *args, **kwargs))
    _BACKGROUND.add(future)
    future.add_done_callback(_BACKGROUND.discard)
    return future


class Activity:
    """When the client last asked for something. SFTP requests count; SSH keepalives do not, so a client that
    only keeps its connection open is idle."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last = time.monotonic()

    def touch(self) -> None:
        self.last = time.monotonic()


class _Listing:
    """A folder handle. asyncssh forgets a folder handle on close without telling the server: its slot is given
    back when asyncssh drops the handle (at once, by reference counting)."""

    def __init__(self, entries: AsyncIterator[SFTPName], touch: Callable[[], None], release: Callable[[], None]):
        self._entries, self._touch = entries, touch
        weakref.finalize(self, release)

    def __aiter__(self) -> _Listing:
        return self

    async def __anext__(self) -> SFTPName:
        self._touch()
        return await self._entries.__anext__()


class MailboxSFTPServer(asyncssh.SFTPServer):
    def __init__(self, chan: asyncssh.SSHServerChannel, gateway: Gateway):
        self.gateway, self.transfers = gateway, gateway.transfers
        conn = chan.get_connection()
        self.session: GatewaySession = conn.get_extra_info("gga_session")
        self.login_logged: asyncio.Future | None = conn.get_extra_info("gga_login_logged")
        self.activity: Activity = conn.get_extra_info("gga_activity") or Activity()
        channels = conn.get_extra_info("gga_channels")
        if channels is not None:  # told why, should the connection be closed under them
            channels.add(chan)
        # OpenSSH's sftp prints the session's stderr but never an SFTP status's text ("Failure"): a refusal's code
        # goes there too for it; other clients may leave stderr unread, and it shares the channel's window
        self.tells_stderr = (conn.get_extra_info("client_version") or "").startswith("SSH-2.0-OpenSSH")
        self.handles = 0  # open files and folders, at most settings.sftp_max_handles
        self.handles_logged = False
        super().__init__(chan, chroot=os.fsencode(self.session.home))

    def _refused(self, err: GGAError) -> asyncssh.SFTPError:
        """The SFTP status for ``err``, its ``CODE: message`` also on stderr for OpenSSH's sftp (best effort)."""
        if self.tells_stderr:
            with contextlib.suppress(Exception):  # a channel closing under the refusal: the status says it all
                self.channel.write_stderr(f"{err.code}: {err.message}\n".encode())
        return sftp_error(err)

    # -- open handles, capped: a session cannot take the process's file descriptors -------------------------
    def _take_handle(self) -> None:
        limit = self.gateway.settings.sftp_max_handles
        if self.handles >= limit:
            if not self.handles_logged:  # once per session: a client looping on the refusal is one line
                self.handles_logged = True
                in_background(self.gateway.translog.record, "session", "refused", protocol=self.session.protocol,
                              error_code=str(ErrorCode.TOO_MANY_OPEN_FILES), max_handles=limit,
                              **self.session.log_fields())
            raise self._refused(GGAError(ErrorCode.TOO_MANY_OPEN_FILES, f"At most {limit} files and folders open at "
                                      "once in a session: close some first."))
        self.handles += 1

    def _release_handle(self) -> None:
        self.handles -= 1

    # -- files ---------------------------------------------------------------------------------------------
    async def open(self, path: bytes, pflags: int, attrs: SFTPAttrs) -> object:
        self.activity.touch()
        self._take_handle()
        try:
            return await self._open(path.decode("utf-8", "replace"), bool(pflags & asyncssh.FXF_WRITE))
        except BaseException:
            self._release_handle()
            raise

    async def _open(self, name: str, write: bool) -> object:
        if self.login_logged is not None:  # a key login is counted and logged in the background: first all the same
            try:
                await asyncio.shield(self.login_logged)
            except GGAError as err:  # past the sender's session cap: the connection is being closed with the code
                raise self._refused(err) from err
            except Exception:  # a failed log line is the log's problem, not this transfer's
                log.exception("logging a key login")
        if not write:
            try:
                return await asyncio.to_thread(self.transfers.open_download, self.session, name)
            except GGAError as err:
                raise self._refused(err) from err
        try:  # on the loop, as asyncssh opens files itself and as the bytes are written: a few metadata calls
            return self.transfers.start_upload(self.session, name)  # (two thread hops cost more, measured)
        except GGAError as err:
            await asyncio.to_thread(self.transfers.log_refusal, self.session, "upload", name, err)
            raise self._refused(err) from err

    def write(self, file_obj: object, offset: int, data: bytes) -> None:
        self.activity.touch()
        if not isinstance(file_obj, Upload):
            raise asyncssh.SFTPPermissionDenied("PATH_NOT_ALLOWED: opened for reading")
        told = file_obj.failed is not None  # the writes a client pipelined after the first refused: told once
        try:
            file_obj.write(offset, data)
        except GGAError as err:
            raise (sftp_error(err) if told else self._refused(err)) from err

    def read(self, file_obj: object, offset: int, size: int) -> bytes:
        self.activity.touch()
        if not isinstance(file_obj, Download):
            raise asyncssh.SFTPPermissionDenied("PATH_NOT_ALLOWED: uploads cannot be read back")
        return file_obj.read(offset, size)

    async def close(self, file_obj: object) -> None:
        self.activity.touch()
        self._release_handle()  # asyncssh closes every file it opened exactly once, the client's or at the end
        # asyncssh also closes open files when the session ends (the client dropped, or sent EOF with a file still
        # open): that is no finished upload or download
        gone = _session_ending(self.channel)
        if isinstance(file_obj, Download):
            await asyncio.to_thread(self.transfers.end_download, file_obj)
        elif isinstance(file_obj, Upload):
            reported = file_obj.failed is not None  # the write that failed it already told the client
            try:
                await asyncio.shield(asyncio.wrap_future(self.transfers.settle_soon(  # runs to its end regardless
                    file_obj, UploadEnd.CLIENT_GONE if gone else UploadEnd.COMPLETED)))
            except GGAError as err:
                if not (gone or reported):
                    raise self._refused(err) from err

    def fstat(self, file_obj: object) -> SFTPAttrs:
        self.activity.touch()
        if isinstance(file_obj, Upload):
            return SFTPAttrs(size=file_obj.size, permissions=0o100600)
        assert isinstance(file_obj, Download)
        return SFTPAttrs.from_local(os.fstat(file_obj.fd))

    async def remove(self, path: bytes) -> None:
        self.activity.touch()
        try:
            await asyncio.to_thread(self.transfers.pick_up, self.session, path.decode("utf-8", "replace"))
        except GGAError as err:
            raise self._refused(err) from err

    # -- folders and metadata --------------------------------------------------------------------------------
    def scandir(self, path: bytes) -> AsyncIterator[SFTPName]:  # type: ignore[override]
        self.activity.touch()
        self._take_handle()
        return _Listing(self._entries(path), self.activity.touch, self._release_handle)

    async def _entries(self, path: bytes) -> AsyncIterator[SFTPName]:
        async for entry in super().scandir(path):
            if entry.filename in (b".", b"..") or not entry.filename.startswith(b"."):
                yield entry

    def map_path(self, path: bytes) -> bytes:
        self.activity.touch()  # stat, lstat, realpath, readlink, listings: every path-only request passes here
        try:
            visible(path.decode("utf-8", "replace"))
        except GGAError as err:
            raise self._refused(err) from err
        return super().map_path(path)

    def stat(self, path: bytes) -> os.stat_result:  # type: ignore[override]
        return self._found(super().stat, path)

    def lstat(self, path: bytes) -> os.stat_result:  # type: ignore[override]
        return self._found(super().lstat, path)

    @staticmethod
    def _found(look: Callable[[bytes], os.stat_result], path: bytes) -> os.stat_result:
        """A missing file is FILE_NOT_FOUND, with the code every other refusal carries."""
        try:
            return look(path)
        except FileNotFoundError:
            name = path.decode("utf-8", "replace")
            raise sftp_error(not_found(name, name)) from None  # a put stats its target first: not said on stderr

    def fsync(self, file_obj: object) -> None:
        """``fsync@openssh.com`` (``put -f``): an upload is made durable at its close, before that close is
        answered; nothing to do earlier."""
        self.activity.touch()

    def statvfs(self, path: bytes) -> None:  # type: ignore[override]
        raise asyncssh.SFTPOpUnsupported("statvfs is not offered: the gateway's disks are not the sender's")

    def fstatvfs(self, file_obj: object) -> None:  # type: ignore[override]
        raise asyncssh.SFTPOpUnsupported("statvfs is not offered: the gateway's disks are not the sender's")

    # A mailbox has a fixed shape: files come only through open, go only through remove. Times and modes are not
    # the sender's: accepted and ignored, as clients set them after an upload (put -p).
    def setstat(self, path: bytes, attrs: SFTPAttrs) -> None:
        self.activity.touch()

    def fsetstat(self, file_obj: object, attrs: SFTPAttrs) -> None:
        self.activity.touch()

    lsetstat = setstat

    def _refuse(self, what: str, path: bytes) -> None:
        self.activity.touch()
        err = GGAError(ErrorCode.COMMAND_NOT_ALLOWED, f"{what} is not offered: the mailbox folders are fixed; files "
                       "are created only by uploading them under a batch name.")
        in_background(self.transfers.log_refusal, self.session, what, path.decode("utf-8", "replace"), err)
        raise self._refused(err)

    def mkdir(self, path: bytes, attrs: SFTPAttrs) -> None:
        self._refuse("mkdir", path)

    def rmdir(self, path: bytes) -> None:
        self._refuse("rmdir", path)

    def rename(self, oldpath: bytes, newpath: bytes) -> None:
        self._refuse("rename", oldpath)

    def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        self._refuse("rename", oldpath)

    def symlink(self, oldpath: bytes, newpath: bytes) -> None:
        self._refuse("symlink", newpath)

    def link(self, oldpath: bytes, newpath: bytes) -> None:
        self._refuse("link", newpath)

    def open56(self, path: bytes, desired_access: int, flags: int, attrs: SFTPAttrs) -> object:
        self._refuse("open56", path)  # SFTP v5/v6 opens: never negotiated (sftp_version 3), refused all the same
