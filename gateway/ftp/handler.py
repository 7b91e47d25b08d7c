"""pyftpdlib handlers: authorisation through the shared entry point; a transfer answered 226 only once durable."""

from __future__ import annotations

from OpenSSL import SSL
from pyftpdlib.authorizers import AuthenticationFailed
from pyftpdlib.handlers import DTPHandler, TLS_DTPHandler, TLS_FTPHandler
from pyftpdlib.log import logger

from gateway.core.gateway import Gateway
from gateway.core.session import GatewaySession
from gateway.core.transfer import UploadEnd
from gateway.ftp.filesystem import DownloadFile, MailboxFS, UploadFile
from kernel.errors import ErrorCode, GGAError


class GatewayAuthorizer:
    """pyftpdlib's authorizer protocol over the gateway's Authenticator (ThreadedFTPServer: one thread per
    connection, so the argon2 check and the database never hold up other connections)."""

    def __init__(self, gateway: Gateway):
        self.gateway = gateway
        self.homes: dict[str, str] = {}  # a technical user's FTP home never changes

    def validate_authentication(self, username: str, password: str, handler: GatewayFTPHandler) -> None:
        tls = bool(handler._ssl_established)
        try:
            session = self.gateway.auth.password(username, password, "FTP", "FTPS" if tls else "FTP",
                                                 handler.remote, secure=tls)
        except GGAError as err:  # refused and logged by the authenticator; the reply names no more than needed
            if err.code == ErrorCode.TLS_REQUIRED:
                raise AuthenticationFailed(f"{err.code}: send AUTH TLS first (plain FTP only for Router "
                                           "connections the operator allows).") from err
            raise AuthenticationFailed(f"{ErrorCode.LOGIN_FAILED}: unknown user, wrong password, or blocked.") \
                from err
        handler.gga_session = session
        self.homes[username] = str(session.home)
        handler.tls_data_required = tls  # once the control channel is protected, data must be too (PROT P)

    def get_home_dir(self, username: str) -> str:
        return self.homes[username]

    def has_user(self, username: str) -> bool:
        return True

    # every permission letter: the filesystem applies the mailbox rules and refuses with a code
    PERMS = "elradfmwMT"

    def has_perm(self, username: str, perm: str, path: str | None = None) -> bool:
        return perm in self.PERMS

    def get_perms(self, username: str) -> str:
        return self.PERMS

    def get_msg_login(self, username: str) -> str:
        return "Welcome to the gga gateway mailbox."

    def get_msg_quit(self, username: str) -> str:
        return "Goodbye."

    def impersonate_user(self, username: str, password: str) -> None:
        return None

    def terminate_impersonation(self, username: str) -> None:
        return None


class GatewayDTPHandler(TLS_DTPHandler):
    """Finish or discard the upload *before* pyftpdlib answers: 226 means durable and recorded."""

    ac_in_buffer_size = 1 << 20  # read up to 1 MiB per call: fewer Python round trips per gigabyte
    _tls_end_seen = False

    def recv(self, buffer_size: int) -> bytes:
        """Under TLS one recv gives one 16 KiB record: drain what is ready, up to ``buffer_size``.

        An end of stream met while draining is kept for the next call, so the bytes already read are written
        before pyftpdlib's own end-of-transfer path runs.
        """
        data = super().recv(buffer_size)
        if not self._ssl_established or self._tls_end_seen or not data:
            return data
        parts, total = [data], len(data)
        while total < buffer_size:
            try:
                more = self.socket.recv(min(1 << 16, buffer_size - total))
            except (SSL.WantReadError, SSL.WantWriteError):
                break
            except (SSL.ZeroReturnError, SSL.SysCallError):
                self._tls_end_seen = True
                break
            if not more:
                self._tls_end_seen = True
                break
            parts.append(more)
            total += len(more)
        return b"".join(parts)

    def handle_read_event(self) -> None:
        super().handle_read_event()  # TLS mixin -> DTPHandler.handle_read -> recv above -> file write
        if self._tls_end_seen and not self._closed:
            # the client's close_notify came with the last bytes; it now waits for our 226
            DTPHandler.handle_close(self)

    def close(self) -> None:
        try:
            if not self._closed:
                self._end_transfer()
        finally:
            super().close()

    def _end_transfer(self) -> None:
        """Settle the upload or end the download *before* pyftpdlib answers: 226 means durable and recorded."""
        transfers = self.cmd_channel.gateway.transfers
        if isinstance(self.file_obj, DownloadFile) and not self.file_obj.closed:
            transfers.end_download(self.file_obj.download)
        if not isinstance(self.file_obj, UploadFile) or self.file_obj.closed:
            return
        self.file_obj.closed = True
        # pyftpdlib also calls a dropped connection "finished": the signature check catches truncation
        end = UploadEnd.COMPLETED if self.transfer_finished else UploadEnd.CLIENT_GONE  # else ABOR
        upload = self.file_obj.upload
        failed = upload.failed is not None
        try:
            transfers.settle(upload, end)
        except GGAError as err:
            if end is UploadEnd.COMPLETED or failed:  # after ABOR pyftpdlib's own 426 stands
                status = 552 if err.code == ErrorCode.FILE_TOO_LARGE else 451
                self._resp = (f"{status} {err.code}: {err.message}", logger.warning)

    def handle_error(self) -> None:
        if isinstance(self.file_obj, UploadFile) and self.file_obj.upload.failed is not None:
            self.close()  # _end_transfer answers 552 with the code
            return
        super().handle_error()


class _AsWritten(str):
    """pyftpdlib capitalizes 530 texts (lower-casing the rest); ours carry codes and names."""

    def capitalize(self) -> str:
        return self


class GatewayFTPHandler(TLS_FTPHandler):
    gateway: Gateway
    gga_session: GatewaySession
    dtp_handler = GatewayDTPHandler
    abstracted_fs = MailboxFS
    banner = "gga gateway: FTP/FTPS mailbox ready (AUTH TLS)."
    permit_foreign_addresses = False
    use_sendfile = False

    @property
    def remote(self) -> str:
        return f"{self.remote_ip}:{self.remote_port}"

    def handle_auth_failed(self, msg: str, password: str) -> None:
        super().handle_auth_failed(_AsWritten(msg), password)

    # pyftpdlib forgets a file queued for a data connection that never came (REIN, USER, a second STOR or RETR)
    # without closing it: end it first, so the upload is discarded and logged and nothing stays open
    def _end_queued(self) -> None:
        for queued in (self._in_dtp_queue and self._in_dtp_queue[0], self._out_dtp_queue and self._out_dtp_queue[2]):
            if queued is not None:
                queued.close()
        self._in_dtp_queue = self._out_dtp_queue = None

    def flush_account(self) -> None:
        self._end_queued()
        super().flush_account()

    def ftp_STOR(self, file: str, mode: str = "w") -> str | None:
        self._end_queued()
        return super().ftp_STOR(file, mode)

    def ftp_RETR(self, file: str) -> None:
        self._end_queued()
        super().ftp_RETR(file)
