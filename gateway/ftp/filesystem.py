"""The mailbox as pyftpdlib sees it: calls go to the shared core; each refusal is a 550 with its code."""

from __future__ import annotations

import contextlib

from pyftpdlib.exceptions import FilesystemError
from pyftpdlib.filesystems import AbstractedFS

from gateway.core.session import GatewaySession
from gateway.core.transfer import RETURN_SET, Download, Transfers, UploadEnd
from gateway.core.upload import Upload
from gateway.naming import UPLOAD_FOLDERS
from kernel.errors import ErrorCode, GGAError


def ftp_error(err: GGAError) -> FilesystemError:
    return FilesystemError(f"{err.code}: {err.message}".rstrip("."))  # pyftpdlib ends the reply with its own "."


class UploadFile:
    """What pyftpdlib writes into: the shared ``Upload`` behind a file-like face. The DTP handler settles it when
    the transfer ends; pyftpdlib closes it directly only when no transfer ever started (QUIT after STOR)."""

    def __init__(self, upload: Upload, transfers: Transfers):
        self.upload, self.transfers = upload, transfers
        self.name = str(upload.session.home / upload.folder / str(upload.name))
        self.closed = False

    def write(self, data: bytes) -> int:
        self.upload.append(data)  # GGAError (too large, disk) surfaces in the DTP handler
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(GGAError):  # discarded and logged
                self.transfers.settle(self.upload, UploadEnd.CLIENT_GONE)


class DownloadFile:
    """What pyftpdlib's producer reads from: the shared ``Download``, ended once (by the DTP handler when a
    transfer ran, else here)."""

    def __init__(self, download: Download, transfers: Transfers):
        self.download, self.transfers = download, transfers
        self.name = str(download.path)

    def read(self, size: int = -1) -> bytes:
        return self.download.read_next(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        self.download.position = offset if whence == 0 else self.download.position + offset
        return self.download.position

    def tell(self) -> int:
        return self.download.position

    @property
    def closed(self) -> bool:
        return self.download.closed

    def close(self) -> None:
        if not self.download.closed:
            self.transfers.end_download(self.download)


def _perms(folder: str, name: str) -> str:
    """An entry's permission letters in its folder (pyftpdlib turns them into a dir's or a file's facts)."""
    if not folder:  # the home: its six folders
        return "elw" if name in UPLOAD_FOLDERS else "el" if name in RETURN_SET else ""
    return "rd" if folder in RETURN_SET else ""


class MailboxFS(AbstractedFS):
    @property
    def session(self) -> GatewaySession:
        return self.cmd_channel.gga_session

    @property
    def transfers(self) -> Transfers:
        return self.cmd_channel.gateway.transfers

    def open(self, filename: str, mode: str):  # type: ignore[no-untyped-def]
        path = self.fs2ftp(filename)
        try:
            if "a" in mode or "+" in mode:  # APPE, or REST then STOR: an upload is one whole file
                refusal = GGAError(ErrorCode.COMMAND_NOT_ALLOWED, "Appending or resuming an upload (APPE, REST) is "
                                   "not offered: send the whole file again.")
                self.transfers.log_refusal(self.session, "upload", path, refusal)
                raise refusal
            if "w" in mode:
                return UploadFile(self.transfers.open_upload(self.session, path, background=True), self.transfers)
            return DownloadFile(self.transfers.open_download(self.session, path), self.transfers)
        except GGAError as err:
            raise ftp_error(err) from err

    def remove(self, path: str) -> None:
        try:
            self.transfers.pick_up(self.session, self.fs2ftp(path))
        except GGAError as err:
            raise ftp_error(err) from err

    def chdir(self, path: str) -> None:
        """Only the home and its folders may be entered; anything else is FILE_NOT_FOUND with its code (pyftpdlib
        answered "550 No such file or directory." with none)."""
        if not self.isdir(path):
            shown = self.fs2ftp(path)[-200:]
            raise ftp_error(GGAError(ErrorCode.FILE_NOT_FOUND, f"{shown}: no such folder; a mailbox holds IN, INTEST, "
                                     "INTEST-S, OUT, OUTTEST and OUTTEST-S.", {"path": shown}))
        super().chdir(path)

    def listdir(self, path: str) -> list[str]:
        return [n for n in super().listdir(path) if not n.startswith(".")]

    def format_mlsx(self, basedir, listing, perms, facts, ignore_err=True):  # type: ignore[no-untyped-def]
        """MLSD/MLST ``perm`` facts as the mailbox rules are, not the authorizer's every letter (clients such as
        FileZilla offer what these say): the home lists its folders, upload folders take new files, a return
        folder's files are read and deleted."""
        folder = self.fs2ftp(basedir).strip("/")
        for name in listing:
            yield from super().format_mlsx(basedir, [name], _perms(folder, name), facts, ignore_err)

    # The handler refuses the commands behind these first (GatewayFTPHandler.REFUSED); here in case one slips by
    def _fixed(self, *_args: object, **_kwargs: object) -> None:
        raise FilesystemError(f"{ErrorCode.COMMAND_NOT_ALLOWED}: the mailbox folders are fixed")

    mkdir = rmdir = rename = chmod = utime = symlink = mkstemp = _fixed  # type: ignore[assignment]
