"""The mailbox as pyftpdlib sees it: the shared transfer rules, each refusal a 550 with its code."""

from __future__ import annotations

import time
from pathlib import Path

from pyftpdlib.exceptions import FilesystemError
from pyftpdlib.filesystems import AbstractedFS

from gateway.core.session import GatewaySession
from gateway.core.transfer import Upload, open_upload, pick_up, return_file
from gga.errors import ErrorCode, GGAError


def ftp_error(err: GGAError) -> FilesystemError:
    return FilesystemError(f"{err.code}: {err.message}")


class UploadFile:
    """What pyftpdlib writes into: the shared ``Upload`` behind a file-like face."""

    def __init__(self, upload: Upload):
        self.upload = upload
        self.name = str(upload.session.home / upload.folder / str(upload.name))
        self.closed = False

    def write(self, data: bytes) -> int:
        self.upload.write(self.upload.size, data)  # GGAError (too large) surfaces in the DTP handler
        return len(data)

    def close(self) -> None:
        self.closed = True  # finishing or discarding is the DTP handler's call: only it knows how it ended


class DownloadFile:
    def __init__(self, path: Path):
        self._file = open(path, "rb")  # noqa: SIM115 (closed by pyftpdlib)
        self.name, self.started = str(path), time.monotonic()

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def fileno(self) -> int:
        return self._file.fileno()

    def seek(self, *args: int) -> int:
        return self._file.seek(*args)

    def tell(self) -> int:
        return self._file.tell()

    @property
    def closed(self) -> bool:
        return self._file.closed

    def close(self) -> None:
        self._file.close()


class MailboxFS(AbstractedFS):
    @property
    def session(self) -> GatewaySession:
        return self.cmd_channel.gga_session

    def _virtual(self, path: str) -> str:
        return self.fs2ftp(path)

    def open(self, filename: str, mode: str):  # type: ignore[no-untyped-def]
        path = self._virtual(filename)
        try:
            if "w" in mode or "a" in mode:
                if "a" in mode:
                    raise GGAError(ErrorCode.PATH_NOT_ALLOWED, "Appending (APPE/REST) is not supported: send the "
                                   "whole file again.")
                return UploadFile(open_upload(self.session, path, self.cmd_channel.gateway.settings.max_file_mb,
                                              background=True))
            return DownloadFile(return_file(self.session, path))
        except GGAError as err:
            self.cmd_channel.log_refusal("upload" if "w" in mode else "download", path, err)
            raise ftp_error(err) from err

    def remove(self, path: str) -> None:
        virtual = self._virtual(path)
        try:
            pick_up(self.session, virtual, self.cmd_channel.gateway.translog)
        except GGAError as err:
            self.cmd_channel.log_refusal("delete", virtual, err)
            raise ftp_error(err) from err

    def listdir(self, path: str) -> list[str]:
        return [n for n in super().listdir(path) if not n.startswith(".")]

    def _fixed(self, *_args: object) -> None:
        raise FilesystemError(f"{ErrorCode.PATH_NOT_ALLOWED}: the mailbox folders are fixed")

    mkdir = rmdir = rename = chmod = utime = symlink = _fixed  # type: ignore[assignment]
