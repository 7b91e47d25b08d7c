"""The jailed SFTP server of one technical user: each call is translated for the shared core, nothing decided here.

Opens, closes and deletions (disk and database) run on worker threads; the bytes of ``write`` and ``read`` are
handled on the loop, where moving them costs more than it saves (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

import asyncssh
from asyncssh import SFTPAttrs, SFTPName

from gateway.core.gateway import Gateway
from gateway.core.session import GatewaySession
from gateway.core.transfer import Download, UploadEnd
from gateway.core.upload import Upload
from kernel.errors import ErrorCode, GGAError


def sftp_error(err: GGAError) -> asyncssh.SFTPError:
    """One mapping from our codes to SFTP status codes; the message carries the code for the client's log."""
    reason = f"{err.code}: {err.message}"
    if err.code == ErrorCode.PATH_NOT_ALLOWED:
        return asyncssh.SFTPPermissionDenied(reason)
    if err.code == ErrorCode.FILE_NOT_FOUND:
        return asyncssh.SFTPNoSuchFile(reason)
    return asyncssh.SFTPFailure(reason)


class MailboxSFTPServer(asyncssh.SFTPServer):
    def __init__(self, chan: asyncssh.SSHServerChannel, gateway: Gateway):
        self.transfers = gateway.transfers
        conn = chan.get_connection()
        self.session: GatewaySession = conn.get_extra_info("gga_session")
        self.login_logged: asyncio.Future | None = conn.get_extra_info("gga_login_logged")
        super().__init__(chan, chroot=os.fsencode(self.session.home))

    async def open(self, path: bytes, pflags: int, attrs: SFTPAttrs) -> object:
        if self.login_logged is not None:  # a key login is logged in the background: first in the log all the same
            with contextlib.suppress(Exception):  # a failed log line is the log's problem, not this transfer's
                await asyncio.shield(self.login_logged)
        name = path.decode("utf-8", "replace")
        opener = self.transfers.open_upload if pflags & asyncssh.FXF_WRITE else self.transfers.open_download
        try:
            return await asyncio.to_thread(opener, self.session, name)
        except GGAError as err:
            raise sftp_error(err) from err

    def write(self, file_obj: object, offset: int, data: bytes) -> None:
        if not isinstance(file_obj, Upload):
            raise asyncssh.SFTPPermissionDenied("PATH_NOT_ALLOWED: opened for reading")
        try:
            file_obj.write(offset, data)
        except GGAError as err:
            raise sftp_error(err) from err

    def read(self, file_obj: object, offset: int, size: int) -> bytes:
        if not isinstance(file_obj, Download):
            raise asyncssh.SFTPPermissionDenied("PATH_NOT_ALLOWED: uploads cannot be read back")
        return file_obj.read(offset, size)

    async def close(self, file_obj: object) -> None:
        # asyncssh also closes open files when the client drops: that is no finished upload or download
        gone = self.channel.is_closing()
        if isinstance(file_obj, Download):
            await asyncio.to_thread(self.transfers.end_download, file_obj)
        elif isinstance(file_obj, Upload):
            reported = file_obj.failed is not None  # the write that failed it already told the client
            try:
                await asyncio.to_thread(self.transfers.settle, file_obj,
                                        UploadEnd.CLIENT_GONE if gone else UploadEnd.COMPLETED)
            except GGAError as err:
                if not (gone or reported):
                    raise sftp_error(err) from err

    def fstat(self, file_obj: object) -> SFTPAttrs:
        if isinstance(file_obj, Upload):
            return SFTPAttrs(size=file_obj.size, permissions=0o100600)
        assert isinstance(file_obj, Download)
        return SFTPAttrs.from_local(os.fstat(file_obj.fd))

    async def remove(self, path: bytes) -> None:
        try:
            await asyncio.to_thread(self.transfers.pick_up, self.session, path.decode("utf-8", "replace"))
        except GGAError as err:
            raise sftp_error(err) from err

    async def scandir(self, path: bytes) -> AsyncIterator[SFTPName]:
        async for entry in super().scandir(path):
            if entry.filename in (b".", b"..") or not entry.filename.startswith(b"."):
                yield entry

    # A mailbox has a fixed shape: no folders made, renamed or linked; times and modes are not the sender's.
    def _refuse(self, *_args: object) -> None:
        raise asyncssh.SFTPPermissionDenied(f"{ErrorCode.PATH_NOT_ALLOWED}: the mailbox folders are fixed")

    mkdir = rmdir = rename = posix_rename = symlink = link = _refuse  # type: ignore[assignment]

    def setstat(self, path: bytes, attrs: SFTPAttrs) -> None:
        return None

    def fsetstat(self, file_obj: object, attrs: SFTPAttrs) -> None:
        return None

    lsetstat = setstat
