"""The SFTP listener: authentication through the shared entry point, then the jailed mailbox server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncssh

from gateway.core.dealt import Dealt
from gateway.core.gateway import Gateway
from gateway.core.limits import ConnectionsPerAddress, RefusalBursts
from gateway.core.session import GatewaySession
from gateway.sftp.handler import Activity, MailboxSFTPServer, in_background
from kernel.errors import ErrorCode, GGAError
from kernel.settings import Settings, host_port
from keys.ssh import ensure_host_keys

log = logging.getLogger("gga.sftp")
LEGACY_RSA = b"ssh-rsa"
LOGIN_TIMEOUT_S = 30  # from connect to authenticated: a client that cannot log in by then never will

# Offered by default (ssh-audit: no fail, and only the "not post-quantum" warnings of the curve and DH exchanges).
# SHA-1 (group14-sha1, hmac-sha1, ssh-rsa host signatures), NIST curves, small group-exchange moduli, 64-bit umac
# tags and encrypt-and-MAC MACs only with GGA_LEGACY_ALGORITHMS.
MODERN_KEX = ("mlkem768x25519-sha256", "curve25519-sha256", "curve25519-sha256@libssh.org",
              "diffie-hellman-group16-sha512")
MODERN_CIPHERS = ("chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes128-gcm@openssh.com",
                  "aes256-ctr", "aes192-ctr", "aes128-ctr")
MODERN_MACS = ("hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "umac-128-etm@openssh.com")
MODERN_HOST_SIGNATURES = frozenset({b"ssh-ed25519", b"rsa-sha2-512", b"rsa-sha2-256"})


@dataclass
class Listener:
    """What the connections of one SFTP listener share (all on its event loop)."""

    gateway: Gateway
    per_address: ConnectionsPerAddress
    bursts: RefusalBursts = field(default_factory=RefusalBursts)
    connections: set[asyncssh.SSHServerConnection] = field(default_factory=set)


class GatewaySSHServer(asyncssh.SSHServer):
    """asyncssh's authentication callbacks, answered by the shared authenticator on worker threads."""

    def __init__(self, listener: Listener):
        self.listener, self.gateway = listener, listener.gateway
        self.conn: asyncssh.SSHServerConnection | None = None
        self.remote = "-"
        self.address = ""  # counted against the per-address limit while this connection lives
        self.user = ""
        self.key_session: GatewaySession | None = None
        self.session: GatewaySession | None = None
        self.key_tried = False
        self.password_failures = 0
        self.live_key: int | None = None  # the session row of the login, removed when the connection ends
        self.lost = False
        self.activity = Activity()
        self.idle_timer: asyncio.TimerHandle | None = None
        self.login_timer: asyncio.TimerHandle | None = None
        self.channels: weakref.WeakSet[asyncssh.SSHServerChannel] = weakref.WeakSet()  # its SFTP sessions

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername")
        self.remote = f"{peer[0]}:{peer[1]}" if peer else "-"
        ip = peer[0] if peer else "-"
        if not self.listener.per_address.acquire(ip):
            self._refuse_connection(conn, ip)
            return
        self.address = ip
        dead_peers_found_by_tcp(conn.get_extra_info("socket"))
        self.listener.connections.add(conn)
        conn.set_extra_info(gga_activity=self.activity, gga_channels=self.channels)
        self._watch_idle()
        self.login_timer = asyncio.get_running_loop().call_later(LOGIN_TIMEOUT_S, self._login_expired)

    def _login_expired(self) -> None:
        """Not logged in by now: disconnected with the code (asyncssh's own login timeout, a backstop a little
        later, closes without a word)."""
        if self.session is None and self.conn is not None:
            log.info("closing SFTP connection %s of %r: not logged in within %d s", self.remote, self.user,
                     LOGIN_TIMEOUT_S)
            self._disconnect(GGAError(ErrorCode.LOGIN_TIMEOUT, f"not logged in within {LOGIN_TIMEOUT_S} s of "
                                      "connecting: disconnected."))

    def _refuse_connection(self, conn: asyncssh.SSHServerConnection, ip: str) -> None:
        """Past the per-address limit: disconnected before any key exchange, logged once per burst."""
        limit = self.listener.per_address.limit
        reason = f"{ErrorCode.TOO_MANY_CONNECTIONS}: at most {limit} connections at once from one address."
        asyncio.get_running_loop().call_soon(conn.disconnect, asyncssh.DISC_TOO_MANY_CONNECTIONS, reason)
        unlogged = self.listener.bursts.refused(ip)
        if unlogged is not None:
            in_background(self.gateway.translog.record, "connection", "refused", protocol="SFTP",
                          error_code=str(ErrorCode.TOO_MANY_CONNECTIONS), remote_address=self.remote,
                          max_connections=limit, refused_unlogged=unlogged)

    def _watch_idle(self) -> None:
        """Closes the connection once no SFTP request came for ``idle_timeout_s`` (asyncssh has no idle timeout;
        its keepalive only finds dead peers)."""
        timeout = self.gateway.settings.idle_timeout_s
        idle = time.monotonic() - self.activity.last
        if idle < timeout:
            self.idle_timer = asyncio.get_running_loop().call_later(timeout - idle, self._watch_idle)
        elif self.conn is not None:
            log.info("closing SFTP connection %s of %r: idle for %d s", self.remote, self.user, timeout)
            self._disconnect(GGAError(ErrorCode.IDLE_TIMEOUT, f"no request for {timeout} s (GGA_IDLE_TIMEOUT_S): "
                                      "disconnected; reconnect to go on."))

    def _disconnect(self, err: GGAError, code: int = asyncssh.DISC_BY_APPLICATION) -> None:
        """Ends the connection, telling why: as the disconnect's reason, and on each SFTP session's stderr, the
        one place OpenSSH's sftp prints it from once its session is open (it takes the channel's close for the
        end first)."""
        if self.conn is None:
            return
        reason = f"{err.code}: {err.message}"
        for chan in list(self.channels):
            with contextlib.suppress(Exception):  # (a channel closing meanwhile): the disconnect still goes
                chan.write_stderr((reason + "\n").encode())
        self.conn.disconnect(code, reason)

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self.idle_timer, self.login_timer):
            if timer is not None:
                timer.cancel()
        self.lost = True
        self._forget_live()
        if self.conn is not None and self.address:
            self.listener.connections.discard(self.conn)
            self.listener.per_address.release(self.address)
            self.address = ""
        if self.session is None and self.key_tried:  # only keys were offered, none was the registered one
            in_background(self.gateway.auth.refused, self.user, "SFTP", self.remote, "publickey",
                          ErrorCode.LOGIN_FAILED)

    def _forget_live(self) -> None:
        """The session row this connection's login claimed."""
        if self.live_key is not None:
            in_background(self.gateway.live.remove, self.live_key)
        self.live_key = None

    async def begin_auth(self, username: str) -> bool:
        """A banned address is disconnected here, before any password or key is looked at."""
        self.user = username
        try:
            await asyncio.to_thread(self.gateway.auth.check_address, username, "SFTP", self.remote, "connect")
        except GGAError as err:
            self._refuse_login(err)
        return True

    def _refuse_login(self, err: GGAError) -> None:
        """Disconnect with the code: a ban, or too many sessions (already logged; a key login is counted once it
        completed, when its SFTP session may be open already)."""
        self._disconnect(err, asyncssh.DISC_TOO_MANY_CONNECTIONS if err.code == ErrorCode.TOO_MANY_SESSIONS
                         else asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE)

    def password_auth_supported(self) -> bool:
        return True

    async def validate_password(self, username: str, password: str) -> bool:
        end = self._end_from_any_thread()
        try:
            session = await asyncio.to_thread(self.gateway.auth.password, username, password, "SFTP", "SFTP",
                                              self.remote)
        except GGAError as err:  # refused and logged by the authenticator
            if err.code == ErrorCode.ADDRESS_BANNED:
                self._refuse_login(err)
            else:
                await self._password_failed(username)
            return False
        try:
            live_key = await asyncio.to_thread(self.gateway.live.add, session, end)
        except GGAError as err:
            self._refuse_login(err)
            return False
        if self.lost:  # the connection ended while its row was being written
            in_background(self.gateway.live.remove, live_key)
            return False
        self._attach(session, live_key)
        return True

    async def _password_failed(self, username: str) -> None:
        """After ``max_login_tries`` wrong passwords on one connection, it is closed: guessing costs a reconnect."""
        self.password_failures += 1
        limit = self.gateway.settings.max_login_tries
        if self.password_failures < limit or self.conn is None:
            return
        await asyncio.to_thread(self.gateway.auth.refused, username, "SFTP", self.remote, "password",
                                ErrorCode.TOO_MANY_LOGIN_TRIES)
        self.conn.disconnect(asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE,
                             f"{ErrorCode.TOO_MANY_LOGIN_TRIES}: {limit} wrong passwords; reconnect to try again.")

    def public_key_auth_supported(self) -> bool:
        return True

    async def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        """Is this the registered key? Asked for a key offered without its signature too (a public key is no secret):
        no session is counted here, only once the login is proven (``auth_completed``)."""
        self.key_tried = True
        try:
            session = await asyncio.to_thread(self._key_session, username, key.public_data)
        except GGAError as err:  # the sender's sessions are at their cap already: refused with the code
            self.key_tried = False  # the right key (its refusal is logged): no failed login for the defender
            self._refuse_login(err)
            return False
        if session is None or self.lost:
            return False
        if LEGACY_RSA in key.all_sig_algorithms and not self.gateway.settings.sftp_allow_ssh_rsa:
            # asyncssh would accept SHA-1 "ssh-rsa" signatures from this key: only when configured
            key.all_sig_algorithms = key.all_sig_algorithms - {LEGACY_RSA}  # type: ignore[misc]
        self.key_session = session
        return True

    def _key_session(self, username: str, key_data: bytes) -> GatewaySession | None:
        sender = self.gateway.auth.public_key(username, key_data, "SFTP")
        if sender is None:
            return None
        session = self.gateway.auth.session(sender, "SFTP", "SFTP", self.remote)
        if self.key_session is None:  # once (asyncssh asks again with the signature): the cap met now is told now
            self.gateway.live.refuse_if_full(session)
        return session

    def auth_completed(self) -> None:
        # a key login is proven now (asyncssh checked its signature): its session is counted against the sender's
        # cap and logged in the background; the SFTP server waits for that before any transfer
        if self.session is None and self.key_session is not None:
            self._attach(self.key_session, None)
            counted = in_background(self._count_key_login, self.key_session, self._end_from_any_thread(),
                                    asyncio.get_running_loop())
            if self.conn is not None:
                self.conn.set_extra_info(gga_login_logged=counted)

    def _count_key_login(self, session: GatewaySession, end, loop: asyncio.AbstractEventLoop) -> None:  # type: ignore[no-untyped-def]
        """On a worker thread: the session row (refused past the cap: the connection is closed with the code),
        then the login's log line."""
        try:
            live_key = self.gateway.live.add(session, end)
        except GGAError as err:
            loop.call_soon_threadsafe(self._refuse_login, err)
            raise
        self.live_key = live_key
        if self.lost:  # the connection ended meanwhile: connection_lost may have run before the row existed
            self.gateway.live.remove(live_key)
            return
        self.gateway.auth.log_accepted(session, "publickey")

    def _attach(self, session: GatewaySession, live_key: int | None) -> None:
        self.live_key = live_key  # removed when the connection ends
        if self.login_timer is not None:
            self.login_timer.cancel()
        if self.conn is not None:
            self.session = session
            self.conn.set_extra_info(gga_session=session)
            self.activity.touch()

    def _end_from_any_thread(self) -> Callable[[GGAError], None]:
        """How LiveSessions ends this connection (a blocked sender) from its watch thread."""
        loop = asyncio.get_running_loop()
        return lambda err: loop.call_soon_threadsafe(self._disconnect, err)


# A dead peer's connection is found by the kernel's TCP keepalive (first probe after 60 s of silence, then every
# 20 s, 3 unanswered: about 2 minutes), not asyncssh's keepalive: that one re-armed a timer on every packet received,
# 5 % of the SFTP loop's interpreter time under many small uploads (py-spy). A live but silent client is closed by
# the idle timeout (``_watch_idle``) either way.
TCP_KEEPALIVE = {"TCP_KEEPIDLE": 60, "TCP_KEEPINTVL": 20, "TCP_KEEPCNT": 3}


def dead_peers_found_by_tcp(sock: socket.socket | None) -> None:
    if sock is None:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for name, value in TCP_KEEPALIVE.items():
            if hasattr(socket, name):  # Linux; others keep their system's times
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)
    except OSError as exc:  # a socket closed meanwhile: the connection ends anyway
        log.debug("no TCP keepalive on an SFTP connection: %r", exc)


def algorithm_options(settings: Settings) -> dict[str, object]:
    """create_server's algorithm lists: asyncssh's own defaults only with GGA_LEGACY_ALGORITHMS."""
    if settings.legacy_algorithms:
        return {}
    return {"kex_algs": list(MODERN_KEX), "encryption_algs": list(MODERN_CIPHERS), "mac_algs": list(MODERN_MACS)}


def host_keys(settings: Settings) -> list[asyncssh.SSHKey]:
    # key objects, not paths: asyncssh reloads its options at every login and would re-parse (and
    # re-validate, ~0.1 s for RSA) key files each time
    # (our own keys, made by keys/ssh.py: the slow RSA prime checks on loading are skipped)
    keys = [asyncssh.read_private_key(p, unsafe_skip_rsa_key_validation=True)
            for p in ensure_host_keys(settings.resolved_data_dir)]
    if not settings.legacy_algorithms:
        for key in keys:  # the host-key algorithms offered are the key's signature algorithms: no SHA-1 ssh-rsa
            key.sig_algorithms = tuple(a for a in key.sig_algorithms if a in MODERN_HOST_SIGNATURES)
    return keys


class SFTPFrontEnd:
    """The SFTP listener on an event loop of its own, in its own thread: the SSH packet work of busy uploads never
    queues ahead of the admin API's requests on the HTTP loop (docs/performance.md).

    A full file table (EMFILE at accept) does not stop it: asyncio's accept loop logs it and retries a second later.
    """

    def __init__(self, gateway: Gateway, *, dealt: Dealt | None = None):
        self.gateway = gateway
        self.dealt = dealt  # a worker's: the parent accepts and deals the connections out (gga/dealer.py)
        self.server: asyncssh.SSHAcceptor | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self.listener = Listener(gateway, ConnectionsPerAddress(gateway.settings.max_connections_per_address))
        self.address = ""
        self._handshakes: set[asyncio.Task] = set()

    @property
    def accepting(self) -> bool:
        """Taking new connections: its own listener, or the parent's dealt ones."""
        return self.server is not None or (self.dealt is not None and self.dealt.open)

    @property
    def connections(self) -> set[asyncssh.SSHServerConnection]:
        return self.listener.connections

    def start(self) -> str:
        """Blocking: returns the bound address once the listener accepts connections."""
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="sftp", daemon=True)
        self.thread.start()
        self.address = asyncio.run_coroutine_threadsafe(self._listen(), self.loop).result(60)
        return self.address

    async def _listen(self) -> str:
        settings = self.gateway.settings
        options = dict(server_host_keys=host_keys(settings), allow_scp=False, login_timeout=LOGIN_TIMEOUT_S + 5,
                       sftp_factory=lambda chan: MailboxSFTPServer(chan, self.gateway), line_editor=False,
                       **algorithm_options(settings))
        if self.dealt is not None:
            self.dealt.start(asyncio.get_running_loop(), lambda sock: self._serve(sock, options))
            return self.dealt.address
        host, port = host_port(settings.sftp_bind)
        self.server = await asyncssh.create_server(
            lambda: GatewaySSHServer(self.listener), host, port, **options)
        bound = self.server.sockets[0].getsockname()
        return f"{bound[0]}:{bound[1]}"

    def _serve(self, sock: socket.socket, options: dict[str, object]) -> None:
        """A connection the parent accepted: the same SSH server as the listener's, on it."""
        task = asyncio.get_running_loop().create_task(self._handshake(sock, options))
        self._handshakes.add(task)
        task.add_done_callback(self._handshakes.discard)

    async def _handshake(self, sock: socket.socket, options: dict[str, object]) -> None:
        try:
            await asyncssh.run_server(sock, server_factory=lambda: GatewaySSHServer(self.listener), **options)
        except Exception as exc:  # a client that left or failed to log in: asyncssh closed the connection
            log.debug("an SFTP connection ended before its login: %r", exc)

    def stop_accepting(self) -> None:
        """Blocking: no new connections (a drain); the sessions go on."""
        if self.loop is not None and self.accepting:
            asyncio.run_coroutine_threadsafe(self._stop_listening(), self.loop).result(10)

    async def _stop_listening(self) -> None:
        if self.dealt is not None:
            self.dealt.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    def stop(self) -> None:
        """Blocking: stops listening, closes the sessions (an upload still open is discarded and logged
        ``incomplete``, as when its client drops), then ends the loop's thread."""
        if self.loop is None or self.thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._close(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
        self.loop = self.thread = None

    async def _close(self, grace: float = 10) -> None:
        await self._stop_listening()
        for conn in list(self.connections):
            conn.close()
        # asyncssh closes the open files of each session as it ends: let those closes settle their uploads
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if others:
            await asyncio.wait(others, timeout=grace)
        await asyncio.get_running_loop().shutdown_default_executor()  # logins and settles under way finish
