"""pyftpdlib handlers: authorisation through the shared entry point; a transfer answered 226 only once durable."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import socket
import threading
from collections.abc import Callable

from OpenSSL import SSL
from pyftpdlib.authorizers import AuthenticationFailed
from pyftpdlib.handlers import DTPHandler, TLS_DTPHandler, TLS_FTPHandler
from pyftpdlib.ioloop import _ERRNOS_DISCONNECTED, _ERRNOS_RETRY, _RetryError
from pyftpdlib.log import logger

from gateway.core.gateway import Gateway
from gateway.core.session import GatewaySession
from gateway.core.transfer import UploadEnd, visible
from gateway.ftp.filesystem import DownloadFile, MailboxFS, UploadFile
from kernel.errors import ErrorCode, GGAError

LOGIN_TIMEOUT_S = 30  # from connect to logged in
# one reply for every refused password, TLS required included: a plain-text login must not learn that its
# password was right (the log keeps the precise code)
LOGIN_REFUSED = f"{ErrorCode.LOGIN_FAILED}: unknown user, wrong password, or blocked."


def shut_down(sock: object, how: int = socket.SHUT_RDWR) -> None:
    """End a control connection from any thread: its own thread wakes at once and closes it (a transfer under way
    ends as cut). A TLS connection (pyOpenSSL) shuts its socket with sock_shutdown; its shutdown() is the TLS one."""
    with contextlib.suppress(Exception):
        (getattr(sock, "sock_shutdown", None) or sock.shutdown)(how)  # type: ignore[attr-defined]


def _drop_unread(fd: int) -> None:
    """Whatever the kernel holds unread on a non-blocking socket (raw bytes, under TLS too): read and dropped."""
    for _ in range(64):  # bounded: a client streaming at us is cut by the close all the same
        try:
            if not os.read(fd, 65536):
                return
        except (BlockingIOError, InterruptedError):
            return


def in_background(call: Callable[..., object], *args: object, **kwargs: object) -> None:
    """A transfer-log row written from the acceptor's loop, which must not wait on the database."""
    threading.Thread(target=call, args=args, kwargs=kwargs, name="ftp-log", daemon=True).start()


WHILE_TRANSFERRING = frozenset({"ABOR", "STAT", "QUIT", "NOOP"})  # what a client may say while a file flows


class GatewayAuthorizer:
    """pyftpdlib's authorizer protocol over the gateway's Authenticator (ThreadedFTPServer: one thread per
    connection, so the argon2 check and the database never hold up other connections)."""

    def __init__(self, gateway: Gateway):
        self.gateway = gateway
        self.homes: dict[str, str] = {}  # a technical user's FTP home never changes

    def validate_authentication(self, username: str, password: str, handler: GatewayFTPHandler) -> None:
        tls = bool(handler._ssl_established)
        handler.login_protocol = "FTPS" if tls else "FTP"
        try:
            session = self.gateway.auth.password(username, password, "FTP", handler.login_protocol,
                                                 handler.remote, secure=tls)
        except GGAError as err:  # refused and logged by the authenticator; the reply names no more than needed
            if err.code == ErrorCode.ADDRESS_BANNED:  # says nothing of the password: it was not checked
                raise AuthenticationFailed(f"{err.code}: {err.message}") from err
            raise AuthenticationFailed(LOGIN_REFUSED) from err  # same reply, same delay (TLS_REQUIRED too)
        try:
            handler.live_key = self.gateway.live.add(session, handler.end_from_any_thread)
        except GGAError as err:  # past the sender's cap (logged): 530 with the code
            raise AuthenticationFailed(f"{err.code}: {err.message}") from err
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


# the peer reset the connection: a sender's line or process that went down mid-file, never an end of file
_RESET = frozenset({errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE, errno.ETIMEDOUT})


class _ResetNoted(DTPHandler):
    """The socket read pyftpdlib makes (under its TLS layer, which it reaches through ``super()``), noting a reset
    or a TLS connection closed without its close_notify: pyftpdlib takes either for the end of the file, and the cut
    upload was answered 226 and kept. RFC 4217 (and vsftpd's ``strict_ssl_read_eof``) takes an end without
    close_notify for a truncation, as a forged or lost FIN can cut a file there; the FS signature would catch the
    cut later, but environment S may send none, so the cut file reached the application's simulation."""

    reset = False
    unclean = False  # the TLS connection ended without close_notify

    def recv(self, buffer_size: int) -> bytes:
        try:
            data = self.socket.recv(buffer_size)
        except SSL.SysCallError as err:
            self._note(err)
            raise  # the TLS layer ends the transfer as before
        except OSError as err:  # as pyftpdlib's own read does, but for the note
            if err.errno in _ERRNOS_RETRY:
                raise _RetryError from err
            if err.errno not in _ERRNOS_DISCONNECTED:
                raise
            self.reset = err.errno in _RESET
            self.handle_close()
            return b""
        if not data:
            self.handle_close()
        return data

    def _note(self, err: SSL.SysCallError) -> None:
        """A TLS read's system error: a reset if its errno is one; either way no close_notify came."""
        self.reset = self.reset or err.args[0] in _RESET
        self.unclean = True


class GatewayDTPHandler(TLS_DTPHandler, _ResetNoted):
    """Finish or discard the upload *before* pyftpdlib answers: 226 means durable and recorded."""

    ac_in_buffer_size = 1 << 20  # read up to 1 MiB per call: fewer Python round trips per gigabyte
    _tls_end_seen = False

    # -- sending: nothing before the TLS handshake ends, the end of a listing included ------------------------
    def initiate_send(self) -> None:
        """pyftpdlib pushes a listing as soon as the command arrives, often before the data channel's handshake
        ended: a write then drives the handshake behind pyftpdlib's back, and a write error closes the socket
        without TLS (the client reads a truncated stream, ftplib's unwrap() fails with SHUTDOWN_WHILE_IN_INIT and
        takes the 226 for the next reply). The write event after the handshake sends it all, then the end."""
        if self._ssl_accepting:
            return
        super().initiate_send()

    def send(self, data: bytes) -> int:
        """asynchat sends an empty chunk (an empty NLST) as is; pyOpenSSL calls a 0-byte write "Unexpected EOF",
        which pyftpdlib takes for a client gone and closes without TLS: an empty chunk sends nothing instead."""
        if not data:
            return 0
        return super().send(data)

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
            except SSL.ZeroReturnError:
                self._tls_end_seen = True
                break
            except SSL.SysCallError as err:
                self._note(err)
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
        # pyftpdlib calls a closed data connection "finished": a reset is not, nor a TLS one without close_notify
        cut = self.reset or self.unclean
        end = UploadEnd.COMPLETED if self.transfer_finished and not cut else UploadEnd.CLIENT_GONE
        upload = self.file_obj.upload
        failed = upload.failed is not None
        if self.unclean and not self.reset and not failed:
            upload.failed = GGAError(ErrorCode.UPLOAD_INCOMPLETE, "The TLS data connection was closed without its "
                                     "close_notify, so the file may be cut: nothing of it is kept; send it again.")
        try:
            transfers.settle(upload, end)
        except GGAError as err:
            if end is UploadEnd.COMPLETED or failed or cut:  # after ABOR pyftpdlib's own 426 stands
                status = 552 if err.code == ErrorCode.FILE_TOO_LARGE else 426 if cut else 451
                self._resp = (f"{status} {err.code}: {err.message}", logger.warning)
        except Exception:  # the database down while a refusal was logged, say: the client still gets its answer
            logger.exception("settling %s", upload.name)
            err = GGAError(ErrorCode.UPLOAD_INCOMPLETE)
            self._resp = (f"451 {err.code}: {err.message}", logger.warning)

    def handle_timeout(self) -> None:
        """pyftpdlib's check, every ``timeout``, that the transfer still moves: a stalled one is ended as it ends
        it, with the code in the reply (an upload ended so is not kept)."""
        if self.get_transmitted_bytes() > self._lastdata:
            self._lastdata = self.get_transmitted_bytes()
            return
        self._resp = (f"421 {ErrorCode.DATA_TIMEOUT}: no data for {self.timeout:g} s (GGA_IDLE_TIMEOUT_S): the "
                      "transfer is ended, and an upload ended so is not kept (send it again).", logger.info)
        self.close()
        self.cmd_channel.close_when_done()

    def handle_error(self) -> None:
        if isinstance(self.file_obj, UploadFile) and self.file_obj.upload.failed is not None:
            self.close()  # _end_transfer answers 552 with the code
            return
        super().handle_error()


class _NoPassivePort(Exception):
    """Every port of this worker's passive range is taken."""


class RangeOnlyPassiveDTP(TLS_FTPHandler.passive_dtp):  # type: ignore[name-defined,misc]  (its module moved)
    """pyftpdlib binds a port the kernel picks when its range is full: one no firewall or compose file opens, where
    a client waits for its timeout. Refused instead (425), for the client to try again."""

    def bind(self, addr: tuple) -> None:  # type: ignore[override]
        if addr[1] == 0 and self.cmd_channel.passive_ports is not None:
            self.close()
            raise _NoPassivePort
        super().bind(addr)

    def handle_timeout(self) -> None:
        """The client never opened the data connection it asked for: the code, not pyftpdlib's bare text."""
        if self.cmd_channel.connected:
            self.cmd_channel.respond(f"421 {ErrorCode.DATA_TIMEOUT}: the data connection asked for was not opened "
                                     f"within {self.timeout:g} s.", logfun=logger.info)
        self.close()


OPTIONS = re.compile(r"^(-[A-Za-z]+\s*)+")  # LIST -la /OUTTEST: options clients send before the path
LISTINGS = frozenset({"LIST", "NLST", "STAT"})


class _AsWritten(str):
    """pyftpdlib capitalizes 530 texts (lower-casing the rest); ours carry codes and names."""

    def capitalize(self) -> str:
        return self


class GatewayFTPHandler(TLS_FTPHandler):
    """FTPFrontEnd binds the gateway and the limits of the settings to a subclass: ``timeout`` (idle control
    connection), ``max_login_attempts`` (passwords per connection) and the data handler's ``timeout``."""

    gateway: Gateway
    gga_session: GatewaySession
    dtp_handler = GatewayDTPHandler
    passive_dtp = RangeOnlyPassiveDTP
    abstracted_fs = MailboxFS
    banner = "gga gateway: FTP/FTPS mailbox ready (AUTH TLS)."
    permit_foreign_addresses = False
    use_sendfile = False
    live_key: int | None = None
    _ended_by: GGAError | None = None  # set from the session watch's thread: told, then closed, on this one's
    _on_own_loop = False
    _login_timer = None

    # Commands that would create, rename or remove files outside STOR and DELE (which go through the core's rules)
    REFUSED = frozenset({"STOU", "APPE", "RNFR", "RNTO", "MKD", "XMKD", "RMD", "XRMD", "SITE CHMOD", "MFMT"})

    @property
    def remote(self) -> str:
        return f"{self.remote_ip}:{self.remote_port}"

    # -- timers on the connection's own thread ----------------------------------------------------------------
    def add_channel(self, map=None, events=None) -> None:  # type: ignore[no-untyped-def]
        super().add_channel(map, events)
        if not self._on_own_loop and self.ioloop is not self.server.ioloop:
            self._on_own_loop = True
            self._start_timers()

    def _start_timers(self) -> None:
        """ThreadedFTPServer builds a handler on the acceptor's loop, then moves it to a loop of its own: its idle
        timer is started again there (to fire in the connection's thread), with the login timer."""
        if self._idler is not None and not self._idler.cancelled:
            self._idler.cancel()
        if self.timeout:
            self._idler = self.ioloop.call_later(self.timeout, self.handle_timeout, _errback=self.handle_error)
        self._login_timer = self.ioloop.call_later(LOGIN_TIMEOUT_S, self._login_expired, _errback=self.handle_error)

    def _login_expired(self) -> None:
        if not self.authenticated and not self._closed:
            self._timed_out(GGAError(ErrorCode.LOGIN_TIMEOUT, f"Not logged in within {LOGIN_TIMEOUT_S} s of "
                                     "connecting: disconnected."))

    def handle_timeout(self) -> None:
        """pyftpdlib's idle timeout, answered with its code."""
        self._timed_out(GGAError(ErrorCode.IDLE_TIMEOUT, f"No command for {self.timeout:g} s (GGA_IDLE_TIMEOUT_S): "
                                 "disconnected; reconnect to go on."))

    def _timed_out(self, err: GGAError) -> None:
        """421 with the code, then closed; a TLS handshake under way takes no reply (a client that went silent in
        it held its thread and slots for good) and is closed as it is, as pyftpdlib's TLS handler does."""
        if self._ssl_accepting:
            logger.info("%s during the TLS handshake: closed", err.code)
            self.close()
            return
        self.respond(f"421 {err.code}: {err.message}", logfun=logger.info)
        self.close_when_done()

    # -- commands ----------------------------------------------------------------------------------------------
    _overlong = False

    def collect_incoming_data(self, data: bytes) -> None:
        """A line over pyftpdlib's limit is answered once (500), and the rest of it up to its end dropped: it was
        taken for a second command, and every later reply came one command late."""
        if self._overlong:
            return
        super().collect_incoming_data(data)
        self._overlong = bool(data) and self._in_buffer_len == 0  # pyftpdlib flushed it with its 500

    def found_terminator(self) -> None:
        if self._overlong:
            self._overlong, self._in_buffer, self._in_buffer_len = False, [], 0
            return
        super().found_terminator()

    def pre_process_command(self, line: str, cmd: str, arg: str) -> None:
        if "\0" in line:  # no path or name holds one; os calls would raise and pyftpdlib drop the connection
            self.respond("501 Syntax error: NUL character in command.")
            return
        if cmd in LISTINGS and arg.startswith("-"):  # pyftpdlib took "-la /OUTTEST" for a path
            arg = OPTIONS.sub("", arg)
            line = f"{cmd} {arg}".rstrip()
        if self.authenticated and self.proto_cmds.get(cmd, {}).get("perm"):
            try:
                visible(arg)
            except GGAError as err:
                self.respond(f"550 {err.code}: {err.message}")
                return
        if self._transferring() and cmd not in WHILE_TRANSFERRING:
            # pyftpdlib would take the command and give the data connection the new file, the first one left
            # open and unsettled (its claim, its thread, a drain waiting for it)
            err = GGAError(ErrorCode.TRANSFER_IN_PROGRESS)
            self.respond(f"450 {err.code}: {err.message}")
            return
        super().pre_process_command(line, cmd, arg)

    def _make_epasv(self, extmode: bool = False) -> None:
        try:
            super()._make_epasv(extmode)
        except _NoPassivePort:
            err = GGAError(ErrorCode.DATA_PORT_UNAVAILABLE)
            self.log(f"425 {err.code}: passive ports {self.passive_ports} all taken", logfun=logger.warning)
            self.respond(f"425 {err.code}: {err.message}")

    def _transferring(self) -> bool:
        channel = self.data_channel
        return channel is not None and not channel._closed and channel.file_obj is not None

    def process_command(self, cmd: str, *args: object, **kwargs: object) -> None:
        if cmd in self.REFUSED and self.authenticated:
            self._refuse(cmd, str(args[0]) if args else "")
            return
        super().process_command(cmd, *args, **kwargs)

    def _refuse(self, cmd: str, arg: str) -> None:
        path = arg if cmd == "STOU" or not arg else self.fs.fs2ftp(arg)  # pyftpdlib made the others real paths
        err = GGAError(ErrorCode.COMMAND_NOT_ALLOWED, f"{cmd} is not offered: files are created only by STOR "
                       "under a batch name and removed only by DELE.")
        self.gateway.translog.record("command", "refused", protocol=self.gga_session.protocol,
                                     error_code=str(err.code), file_name=path[:128], command=cmd,
                                     **self.gga_session.log_fields())
        self.respond(f"502 {err.code}: {err.message}")

    def respond(self, resp: str, logfun=logger.debug) -> None:  # type: ignore[no-untyped-def]
        # pyftpdlib answers every filesystem refusal 550; a name being uploaded is busy for now: 450, try later
        if resp.startswith(f"550 {ErrorCode.UPLOAD_IN_PROGRESS}"):
            resp = "450" + resp[3:]
        elif self._aborting_upload and resp.startswith("426 "):
            resp = f"426 {ErrorCode.UPLOAD_INCOMPLETE}: aborted (ABOR): nothing of this upload is kept."
        super().respond(resp, logfun)

    _aborting_upload = False
    login_protocol = "FTP"  # what the last password check logged: FTPS once the control channel is protected

    def ftp_ABOR(self, line: str) -> None:
        """An upload aborted is not kept: its 426 says so with the code (pyftpdlib's said "Transfer aborted")."""
        channel = self.data_channel
        self._aborting_upload = (channel is not None and isinstance(channel.file_obj, UploadFile)
                                 and channel.transfer_in_progress())
        try:
            super().ftp_ABOR(line)
        finally:
            self._aborting_upload = False

    # -- logins ------------------------------------------------------------------------------------------------
    def ftp_USER(self, line: str) -> None:
        try:  # a banned address is sent away before it may send a password
            self.gateway.auth.check_address(line[:64], "FTP", self.remote, "connect")
        except GGAError as err:
            self.respond(f"421 {err.code}: {err.message}", logfun=logger.info)
            self.close_when_done()
            return
        if not self._ssl_established and not self.gateway.directory.any_plain_ftp():
            # no sender may log in without TLS here: the password is never asked for in clear
            self.gateway.auth.refused(line[:64], "FTP", self.remote, "password", ErrorCode.TLS_REQUIRED)
            self.respond(f"530 {ErrorCode.TLS_REQUIRED}: send AUTH TLS first (plain FTP is not offered here).")
            self.attempted_logins += 1  # a client looping on USER is cut off like one guessing passwords
            if self.attempted_logins >= self.max_login_attempts:
                self.close_when_done()
            return
        super().ftp_USER(line)

    def ftp_QUIT(self, line: str) -> None:
        if not self.data_channel:
            # pyftpdlib frees a waiting passive port after its 221, and the client may already be using the port
            # on another connection (another thread); free it first so the 221 means the port is free
            self._shutdown_connecting_dtp()
        super().ftp_QUIT(line)

    def handle_auth_failed(self, msg: str, password: str) -> None:
        super().handle_auth_failed(_AsWritten(msg), password)

    def on_login_failed(self, username: str, password: str) -> None:
        if self.attempted_logins >= self.max_login_attempts:  # pyftpdlib has answered and is closing
            self.gateway.auth.refused(username[:64], self.login_protocol, self.remote, "password",
                                      ErrorCode.TOO_MANY_LOGIN_TRIES)  # as its password's line said (TLS or not)

    def end_from_any_thread(self, err: GGAError) -> None:
        """How LiveSessions ends this connection (a blocked sender) from its watch thread. pyftpdlib's loop takes no
        call from another thread, so its reading side is shut: the loop wakes at once, readable, and
        ``handle_read_event`` answers 421 with the code and closes, on the connection's own thread."""
        self._ended_by = err
        shut_down(self.socket, socket.SHUT_RD)

    def handle_read_event(self) -> None:
        err = self._ended_by
        if err is None:
            super().handle_read_event()
            return
        with contextlib.suppress(Exception):  # nothing read: a TLS connection can still write (best effort)
            self.respond(f"421 {err.code}: {err.message}", logfun=logger.info)
        self._close_with_fin()

    def _close_with_fin(self) -> None:
        """Closed with a FIN after the 421: a socket closed with bytes unread (a command that crossed the reply)
        makes the kernel send a reset, which the client sees as "connection reset by peer" and on some stacks
        (Windows) drops what it had not read yet, the 421 with it. What came since the reading side was shut is
        read and dropped, the writing side ends after the reply, and what still crosses after that meets a
        connection the client has already seen end."""
        with contextlib.suppress(OSError):
            fd = self.socket.fileno()
            _drop_unread(fd)
            # the 421 is out (a reply still queued would be cut by the FIN); under TLS the close sends its
            # close_notify first, which a FIN before it would cut (a strict client then sees a truncated connection)
            if not self.producer_fifo and not self._ssl_established:
                shut_down(self.socket, socket.SHUT_WR)
                _drop_unread(fd)
        self.close()

    def _forget_live(self) -> None:
        if self.live_key is not None:
            self.gateway.live.remove(self.live_key)
            self.live_key = None

    def close(self) -> None:
        self._forget_live()
        if self._login_timer is not None and not self._login_timer.cancelled:
            self._login_timer.cancel()  # else the connection's thread waits for it after the socket is gone
        super().close()

    def handle_max_cons_per_ip(self) -> None:
        """Past the per-address limit (pyftpdlib counts): 421 with the code, logged once per burst."""
        limit = self.server.max_cons_per_ip
        self.respond(f"421 {ErrorCode.TOO_MANY_CONNECTIONS}: at most {limit} connections at once from one "
                     "address.", logfun=logger.info)
        self.close_when_done()
        unlogged = self.server.bursts.refused(self.remote_ip)
        if unlogged is not None:
            in_background(self.gateway.translog.record, "connection", "refused", protocol="FTP",
                          error_code=str(ErrorCode.TOO_MANY_CONNECTIONS), remote_address=self.remote,
                          max_connections=limit, refused_unlogged=unlogged)

    # pyftpdlib forgets a file queued for a data connection that never came (REIN, USER, a second STOR or RETR)
    # without closing it: end it first, so the upload is discarded and logged and nothing stays open
    def _end_queued(self) -> None:
        for queued in (self._in_dtp_queue and self._in_dtp_queue[0], self._out_dtp_queue and self._out_dtp_queue[2]):
            if queued is not None:
                queued.close()
        self._in_dtp_queue = self._out_dtp_queue = None

    def flush_account(self) -> None:  # REIN, or USER again: logged out
        self._end_queued()
        self._forget_live()
        super().flush_account()

    def ftp_STOR(self, file: str, mode: str = "w") -> str | None:
        self._end_queued()
        return super().ftp_STOR(file, mode)

    def ftp_RETR(self, file: str) -> None:
        self._end_queued()
        super().ftp_RETR(file)
