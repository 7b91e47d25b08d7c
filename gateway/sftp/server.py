"""The SFTP listener: authentication through the shared entry point, then the jailed mailbox server."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

import asyncssh

from gateway.core.gateway import Gateway
from gateway.core.session import GatewaySession
from gateway.sftp.handler import MailboxSFTPServer
from kernel.errors import ErrorCode, GGAError
from kernel.settings import host_port
from keys.ssh import ensure_host_keys

log = logging.getLogger("gga.sftp")
LEGACY_RSA = b"ssh-rsa"


class GatewaySSHServer(asyncssh.SSHServer):
    """asyncssh's authentication callbacks, answered by the shared authenticator on worker threads."""

    def __init__(self, gateway: Gateway, connections: set[asyncssh.SSHServerConnection]):
        self.gateway, self.connections = gateway, connections
        self.conn: asyncssh.SSHServerConnection | None = None
        self.remote = "-"
        self.user = ""
        self.key_session: GatewaySession | None = None
        self.session: GatewaySession | None = None
        self.key_tried = False

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        self.connections.add(conn)
        peer = conn.get_extra_info("peername")
        self.remote = f"{peer[0]}:{peer[1]}" if peer else "-"

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None:
            self.connections.discard(self.conn)
        if self.session is None and self.key_tried:  # only keys were offered, none was the registered one
            _in_background(self.gateway.auth.refused, self.user, "SFTP", self.remote, "publickey",
                           ErrorCode.LOGIN_FAILED)

    def begin_auth(self, username: str) -> bool:
        self.user = username
        return True

    def password_auth_supported(self) -> bool:
        return True

    async def validate_password(self, username: str, password: str) -> bool:
        try:
            session = await asyncio.to_thread(self.gateway.auth.password, username, password, "SFTP", "SFTP",
                                              self.remote)
        except GGAError:
            return False  # refused and logged by the authenticator
        self._attach(session)
        return True

    def public_key_auth_supported(self) -> bool:
        return True

    async def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        self.key_tried = True
        session = await asyncio.to_thread(self._key_session, username, key.public_data)
        if session is None:
            return False
        if LEGACY_RSA in key.all_sig_algorithms and not self.gateway.settings.sftp_allow_ssh_rsa:
            # asyncssh would accept SHA-1 "ssh-rsa" signatures from this key: only when configured
            key.all_sig_algorithms = key.all_sig_algorithms - {LEGACY_RSA}  # type: ignore[misc]
        self.key_session = session
        return True

    def _key_session(self, username: str, key_data: bytes) -> GatewaySession | None:
        sender = self.gateway.auth.public_key(username, key_data, "SFTP")
        return self.gateway.auth.session(sender, "SFTP", "SFTP", self.remote) if sender else None

    def auth_completed(self) -> None:
        # asyncssh offers a key twice (query, then signature): the login is logged once it is complete
        if self.session is None and self.key_session is not None:
            self._attach(self.key_session)
            logged = _in_background(self.gateway.auth.log_accepted, self.key_session, "publickey")
            if self.conn is not None:  # the SFTP server waits for it: the login row comes before any transfer's
                self.conn.set_extra_info(gga_login_logged=logged)

    def _attach(self, session: GatewaySession) -> None:
        if self.conn is not None:
            self.session = session
            self.conn.set_extra_info(gga_session=session)


_BACKGROUND: set[asyncio.Future] = set()


def _in_background(call: Callable[..., object], *args: object) -> asyncio.Future:
    """A database write from a synchronous asyncssh callback: on a worker thread, never on the loop."""
    future = asyncio.get_running_loop().run_in_executor(None, call, *args)
    _BACKGROUND.add(future)
    future.add_done_callback(_BACKGROUND.discard)
    return future


class SFTPFrontEnd:
    """The SFTP listener on an event loop of its own, in its own thread: the SSH packet work of busy uploads never
    queues ahead of the admin API's requests on the HTTP loop (docs/performance.md)."""

    def __init__(self, gateway: Gateway):
        self.gateway = gateway
        self.server: asyncssh.SSHAcceptor | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self.connections: set[asyncssh.SSHServerConnection] = set()
        self.address = ""

    def start(self) -> str:
        """Blocking: returns the bound address once the listener accepts connections."""
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="sftp", daemon=True)
        self.thread.start()
        self.address = asyncio.run_coroutine_threadsafe(self._listen(), self.loop).result(60)
        return self.address

    async def _listen(self) -> str:
        settings = self.gateway.settings
        host, port = host_port(settings.sftp_bind)
        # key objects, not paths: asyncssh reloads its options at every login and would re-parse (and
        # re-validate, ~0.1 s for RSA) key files each time
        # (our own keys, made by keys/ssh.py: the slow RSA prime checks on loading are skipped)
        keys = [asyncssh.read_private_key(p, unsafe_skip_rsa_key_validation=True)
                for p in ensure_host_keys(settings.resolved_data_dir)]
        self.server = await asyncssh.create_server(
            lambda: GatewaySSHServer(self.gateway, self.connections), host, port, server_host_keys=keys,
            sftp_factory=lambda chan: MailboxSFTPServer(chan, self.gateway), allow_scp=False,
            login_timeout=60, keepalive_interval=60)
        bound = self.server.sockets[0].getsockname()
        return f"{bound[0]}:{bound[1]}"

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
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        for conn in list(self.connections):
            conn.close()
        # asyncssh closes the open files of each session as it ends: let those closes settle their uploads
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if others:
            await asyncio.wait(others, timeout=grace)
        await asyncio.get_running_loop().shutdown_default_executor()  # logins and settles under way finish
