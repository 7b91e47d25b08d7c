"""The jailed SFTP server of one technical user: uploads go through the shared transfer rules."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncssh
from asyncssh import SFTPAttrs, SFTPName

from gateway.core.gateway import Gateway
from gateway.core.session import GatewaySession
from gateway.core.transfer import Upload, log_refusal, open_upload, pick_up, return_file
from gga.errors import ErrorCode, GGAError


def sftp_error(err: GGAError) -> asyncssh.SFTPError:
    """One mapping from our codes to SFTP status codes; the message carries the code for the client's log."""
    reason = f"{err.code}: {err.message}"
    if err.code == ErrorCode.PATH_NOT_ALLOWED:
        return asyncssh.SFTPPermissionDenied(reason)
    if err.code == ErrorCode.FILE_NOT_FOUND:
        return asyncssh.SFTPNoSuchFile(reason)
    return asyncssh.SFTPFailure(reason)


class Download:
    def __init__(self, path: Path):
        self.path, self.file, self.started, self.sent = path, open(path, "rb"), time.monotonic(), 0  # noqa: SIM115

    def read(self, offset: int, size: int) -> bytes:
        self.file.seek(offset)
        data = self.file.read(size)
        self.sent = max(self.sent, offset + len(data))
        return data


class MailboxSFTPServer(asyncssh.SFTPServer):
    def __init__(self, chan: asyncssh.SSHServerChannel, gateway: Gateway):
        self.gateway = gateway
        self.session: GatewaySession = chan.get_connection().get_extra_info("gga_session")
        super().__init__(chan, chroot=os.fsencode(self.session.home))

    async def open(self, path: bytes, pflags: int, attrs: SFTPAttrs) -> object:
        name = path.decode("utf-8", "replace")
        try:
            if pflags & asyncssh.FXF_WRITE:
                return open_upload(self.session, name, self.gateway.settings.max_file_mb)
            return Download(return_file(self.session, name))
        except GGAError as err:
            await self._log_refusal("upload" if pflags & asyncssh.FXF_WRITE else "download", name, err)
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
        pipeline = self.gateway.pipeline
        if isinstance(file_obj, Download):
            file_obj.file.close()
            await asyncio.to_thread(self.gateway.translog.record, "download", "ok", protocol="SFTP",
                                    file_name=file_obj.path.name, size=file_obj.sent,
                                    duration_ms=int((time.monotonic() - file_obj.started) * 1000),
                                    **self.session.log_fields())
            return
        if not isinstance(file_obj, Upload):
            return
        if self.channel.is_closing():  # the client dropped mid-upload: nothing of it is kept
            file_obj.discard()
            await asyncio.to_thread(pipeline.interrupted, self.session, str(file_obj.name), file_obj.size)
        elif file_obj.failed is not None:
            file_obj.discard()
            await asyncio.to_thread(pipeline.refused, self.session, file_obj.folder, file_obj.name,
                                    file_obj.failed.code, file_obj.size)
        else:
            received = await asyncio.to_thread(file_obj.finish)
            await asyncio.to_thread(pipeline.received, received)  # close answers only once recorded

    def fstat(self, file_obj: object) -> SFTPAttrs:
        if isinstance(file_obj, Upload):
            return SFTPAttrs(size=file_obj.size, permissions=0o100600)
        assert isinstance(file_obj, Download)
        return SFTPAttrs.from_local(os.fstat(file_obj.file.fileno()))

    async def remove(self, path: bytes) -> None:
        name = path.decode("utf-8", "replace")
        try:
            await asyncio.to_thread(pick_up, self.session, name, self.gateway.translog)
        except GGAError as err:
            await self._log_refusal("delete", name, err)
            raise sftp_error(err) from err

    async def scandir(self, path: bytes) -> AsyncIterator[SFTPName]:
        async for entry in super().scandir(path):
            if entry.filename in (b".", b"..") or not entry.filename.startswith(b"."):
                yield entry

    async def _log_refusal(self, event: str, name: str, err: GGAError) -> None:
        await asyncio.to_thread(log_refusal, self.gateway.translog, self.session, event, name, err)

    # A mailbox has a fixed shape: no folders made, renamed or linked; times and modes are not the sender's.
    def _refuse(self, *_args: object) -> None:
        raise asyncssh.SFTPPermissionDenied(f"{ErrorCode.PATH_NOT_ALLOWED}: the mailbox folders are fixed")

    mkdir = rmdir = rename = posix_rename = symlink = link = _refuse  # type: ignore[assignment]

    def setstat(self, path: bytes, attrs: SFTPAttrs) -> None:
        return None

    def fsetstat(self, file_obj: object, attrs: SFTPAttrs) -> None:
        return None

    lsetstat = setstat
