"""pyftpdlib handlers: authorisation through the shared entry point; a transfer answered 226 only once durable."""

from __future__ import annotations

from OpenSSL import SSL
from pyftpdlib.authorizers import AuthenticationFailed
from pyftpdlib.handlers import DTPHandler, TLS_DTPHandler, TLS_FTPHandler
from pyftpdlib.log import logger

from gateway.core.gateway import Gateway
from gateway.core.session import GatewaySession
from gateway.core.transfer import log_refusal
from gateway.ftp.filesystem import MailboxFS, UploadFile
from gga.errors import ErrorCode, GGAError


class GatewayAuthorizer:
    """pyftpdlib's authorizer protocol over the gateway's Authenticator (ThreadedFTPServer: one thread per
    connection, so the argon2 check and the database never hold up other connections)."""

    def __init__(self, gateway: Gateway):
        self.gateway = gateway
        self.homes: dict[str, str] = {}  # a technical user's FTP home never changes

    def validate_authentication(self, username: str, password: str, handler: GatewayFTPHandler) -> None:
        tls = bool(handler._ssl_established)
        protocol = "FTPS" if tls else "FTP"
        session = self.gateway.auth.password(username, password, "FTP", protocol, handler.remote)
        if session is None:
            raise AuthenticationFailed(f"{ErrorCode.LOGIN_FAILED}: unknown user, wrong password, or blocked.")
        if not tls and not session.sender.channels["FTP"].plain_ftp:
            self.gateway.auth.refused(username, protocol, handler.remote, "password", ErrorCode.PATH_NOT_ALLOWED)
            raise AuthenticationFailed("TLS required: send AUTH TLS first (plain FTP only for Router connections "
                                       "the operator allows).")
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
        if not self._closed and isinstance(self.file_obj, UploadFile) and not self.file_obj.closed:
            self._settle(self.file_obj)
        super().close()

    def _settle(self, file_obj: UploadFile) -> None:
        upload, cmd = file_obj.upload, self.cmd_channel
        pipeline = cmd.gateway.pipeline
        if upload.failed is not None:
            upload.discard()
            pipeline.refused(cmd.gga_session, upload.folder, upload.name, upload.failed.code, upload.size)
            self._resp = (f"552 {upload.failed.code}: {upload.failed.message}", logger.warning)
        elif not self.transfer_finished:  # ABOR or a failure pyftpdlib noticed
            upload.discard()
            pipeline.interrupted(cmd.gga_session, str(upload.name), upload.size)
        else:  # pyftpdlib also calls a dropped connection "finished": the signature check catches truncation
            try:
                pipeline.received(upload.finish())
            except (GGAError, OSError) as err:
                upload.discard()
                self._resp = (f"451 {getattr(err, 'code', 'UPLOAD_INCOMPLETE')}: not stored.", logger.warning)
        file_obj.closed = True

    def handle_error(self) -> None:
        if isinstance(self.file_obj, UploadFile) and self.file_obj.upload.failed is not None:
            self.close()  # _settle answers 552 with the code
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

    def on_file_sent(self, file: str) -> None:
        session = self.gga_session
        self.gateway.translog.record("download", "ok", protocol=session.protocol, file_name=file.rsplit("/", 1)[-1],
                                     **session.log_fields())

    def log_refusal(self, event: str, path: str, err: GGAError) -> None:
        log_refusal(self.gateway.translog, self.gga_session, event, path, err)
