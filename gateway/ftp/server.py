"""The FTP/FTPS listener: pyftpdlib's threaded server (one thread per connection) in a thread of its own."""

from __future__ import annotations

import collections
import contextlib
import errno
import logging
import socket
import threading
import time
from collections.abc import Callable

from OpenSSL import SSL
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import ThreadedFTPServer

from gateway.core.gateway import Gateway
from gateway.core.limits import RefusalBursts
from gateway.ftp.handler import GatewayAuthorizer, GatewayDTPHandler, GatewayFTPHandler, shut_down
from kernel.settings import Settings, host_port, port_range
from keys.issuing import gateway_tls_identity

logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
log = logging.getLogger("gga.ftp")

OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
ACCEPT_PAUSE_S = 0.1  # accept() out of descriptors: the connection waits in the backlog, the loop must not spin
# TLS 1.2 with forward-secret AEAD suites only (TLS 1.3's suites are all AEAD): no CBC, no RSA key exchange
MODERN_TLS12_CIPHERS = b":".join((
    b"ECDHE-ECDSA-AES128-GCM-SHA256", b"ECDHE-RSA-AES128-GCM-SHA256", b"ECDHE-ECDSA-AES256-GCM-SHA384",
    b"ECDHE-RSA-AES256-GCM-SHA384", b"ECDHE-ECDSA-CHACHA20-POLY1305", b"ECDHE-RSA-CHACHA20-POLY1305"))


def tls_context(settings: Settings) -> SSL.Context:
    """The FTPS context; GGA_LEGACY_ALGORITHMS adds OpenSSL's default TLS 1.2 suites (CBC) for old clients."""
    keys = settings.resolved_data_dir / "keys"
    context = SSL.Context(SSL.TLS_SERVER_METHOD)
    context.set_min_proto_version(SSL.TLS1_2_VERSION)
    context.set_options(SSL.OP_NO_COMPRESSION | SSL.OP_CIPHER_SERVER_PREFERENCE | SSL.OP_NO_RENEGOTIATION)
    context.set_cipher_list(b"DEFAULT:!aNULL:!eNULL" if settings.legacy_algorithms else MODERN_TLS12_CIPHERS)
    context.use_certificate_chain_file(str(keys / "tls.pem"))
    context.use_privatekey_file(str(keys / "tls.key"))
    return context


def passive_range(spec: str) -> list[int]:
    return list(port_range(spec))


def passive_ports_for(worker: int, workers: int, ports: range | tuple[int, ...] | list[int]) -> list[int]:
    """Worker ``worker`` (0 to ``workers`` - 1) of ``workers`` gets a contiguous share of ``ports``, disjoint from
    the others' (sizes differ by one at most): a PASV reply names a port only its own process listens on, so the
    data connection reaches the worker that holds the control connection."""
    if not 0 <= worker < workers:
        raise ValueError(f"worker {worker} is not one of 0..{workers - 1}")
    if len(ports) < workers:
        raise ValueError(f"{len(ports)} passive ports cannot be shared by {workers} workers (one each at least)")
    share, extra = divmod(len(ports), workers)
    start = worker * share + min(worker, extra)
    return list(ports[start:start + share + (worker < extra)])


def control_socket(host: str, port: int) -> socket.socket:
    """A listening socket with SO_REUSEPORT: several processes bind the same control port and the kernel spreads
    the connections between them."""
    family, kind, proto, _, address = socket.getaddrinfo(host or None, port, socket.AF_UNSPEC, socket.SOCK_STREAM,
                                                         0, socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


class _Waker:
    """A socket pair on the server's loop (pyftpdlib's loop is not thread-safe): ``call`` runs a function on it
    from any thread; ``wake`` ends ``serve_forever`` at once, and the server then closes every connection."""

    def __init__(self, ioloop: IOLoop):
        self.ioloop = ioloop
        self.calls: collections.deque[Callable[[], object] | None] = collections.deque()
        self.reader, self.writer = socket.socketpair()
        self.reader.setblocking(False)
        self._fileno = self.reader.fileno()
        ioloop.register(self._fileno, self, ioloop.READ)

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def handle_read_event(self) -> None:
        with contextlib.suppress(BlockingIOError):
            self.reader.recv(4096)
        while self.calls:
            call = self.calls.popleft()
            if call is None:
                raise SystemExit  # serve_forever(handle_exit=True) catches it, then close_all()
            call()

    def handle_close(self) -> None:
        self.close()

    def wake(self) -> None:
        self.call(None)

    def call(self, function: Callable[[], object] | None) -> None:
        self.calls.append(function)
        self.writer.send(b"x")

    def close(self) -> None:
        self.ioloop.unregister(self._fileno)
        self.reader.close()
        self.writer.close()


class GatewayFTPServer(ThreadedFTPServer):
    poll_timeout = 0.5  # a connection thread's check for the stop when nothing else wakes it (pyftpdlib: 1 s)
    join_timeout = 2

    def __init__(self, *args: object, **kwargs: object):
        super().__init__(*args, **kwargs)
        self._exit = threading.Event()  # pyftpdlib shares one class-wide event between servers
        self._handlers: set[object] = set()
        self._handlers_lock = threading.Lock()
        self.bursts = RefusalBursts()  # refusals past max_cons_per_ip, and accept() out of descriptors

    def handle_accept(self) -> None:
        """pyftpdlib closes the listener when accept() fails with anything but ECONNABORTED: a full file table
        (another listener's clients, say) would stop FTP until a restart. Wait a moment and accept again."""
        try:
            super().handle_accept()
        except (OSError, RuntimeError) as err:  # RuntimeError: no thread to be had for the connection
            if isinstance(err, OSError) and err.errno not in OUT_OF_RESOURCES:
                raise
            if self.bursts.refused("accept") is not None:
                log.error("FTP out of resources at accept (%s): connections wait in the backlog", err)
            time.sleep(ACCEPT_PAUSE_S)

    def _loop(self, handler: object) -> None:
        with self._handlers_lock:
            self._handlers.add(handler)
        try:
            super()._loop(handler)
        finally:
            with self._handlers_lock:
                self._handlers.discard(handler)

    def close_all(self) -> None:
        """Wake every connection's thread at once: its client sees the control connection end, and a transfer
        under way ends as cut (discarded and logged) when that thread closes its loop."""
        with self._handlers_lock:
            handlers = list(self._handlers)
        for handler in handlers:
            shut_down(handler.socket)  # type: ignore[attr-defined]
        super().close_all()


class FTPFrontEnd:
    """The FTP listener of one process. With several workers (``gga serve --workers N``) each process builds one
    with ``reuse_port=True`` (the same control port for all) and its own ``passive_ports`` (``passive_ports_for``);
    ``bind`` overrides the settings' address (tests)."""

    def __init__(self, gateway: Gateway, *, reuse_port: bool = False, passive_ports: list[int] | None = None,
                 bind: str | None = None):
        self.gateway = gateway
        self.reuse_port = reuse_port
        self.passive_ports = passive_ports
        self.bind = bind
        self.server: GatewayFTPServer | None = None
        self.thread: threading.Thread | None = None
        self.waker: _Waker | None = None

    def start(self) -> str:
        settings = self.gateway.settings
        tls = gateway_tls_identity(settings.resolved_data_dir)
        assert tls.certificate is not None
        dtp = type("BoundDTPHandler", (GatewayDTPHandler,), {"timeout": settings.idle_timeout_s})
        handler = type("BoundFTPHandler", (GatewayFTPHandler,), {
            "gateway": self.gateway, "authorizer": GatewayAuthorizer(self.gateway),
            "passive_ports": self.passive_ports or passive_range(settings.ftp_passive_ports),
            "ssl_context": tls_context(settings),
            "dtp_handler": dtp, "timeout": settings.idle_timeout_s, "max_login_attempts": settings.max_login_tries,
            "masquerade_address": settings.ftp_masquerade_address,  # what PASV tells clients outside a container
        })
        address = host_port(self.bind or settings.ftp_bind)
        self.server = GatewayFTPServer(control_socket(*address) if self.reuse_port else address, handler,
                                       ioloop=IOLoop())
        self.server.max_cons = 512
        self.server.max_cons_per_ip = settings.max_connections_per_address
        self.waker = _Waker(self.server.ioloop)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"timeout": 5, "blocking": True},
                                       name="ftp", daemon=True)
        self.thread.start()
        host, port = self.server.address[:2]
        return f"{host}:{port}"

    def stop_accepting(self) -> None:
        """No new connections (a drain): the listener closes on its own loop; the sessions go on."""
        if self.server is not None and self.waker is not None and self.thread is not None and self.thread.is_alive():
            self.waker.call(self.server.close)

    def stop(self) -> None:
        if self.waker is not None and self.thread is not None and self.thread.is_alive():
            self.waker.wake()
            self.thread.join(10)
