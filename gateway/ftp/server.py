"""The FTP/FTPS listener: pyftpdlib's threaded server (one thread per connection) in a thread of its own."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading

from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import ThreadedFTPServer

from gateway.core.gateway import Gateway
from gateway.ftp.handler import GatewayAuthorizer, GatewayFTPHandler
from kernel.settings import host_port
from keys.issuing import gateway_tls_identity

logging.getLogger("pyftpdlib").setLevel(logging.WARNING)


def passive_range(spec: str) -> list[int]:
    low, _, high = spec.partition("-")
    return list(range(int(low), int(high or low) + 1))


class _Waker:
    """A socket pair on the server's loop: ``wake`` from any thread ends ``serve_forever`` at once, and the
    server then closes every connection in its own thread (pyftpdlib's loop is not thread-safe)."""

    def __init__(self, ioloop: IOLoop):
        self.ioloop = ioloop
        self.reader, self.writer = socket.socketpair()
        self.reader.setblocking(False)
        self._fileno = self.reader.fileno()
        ioloop.register(self._fileno, self, ioloop.READ)

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def handle_read_event(self) -> None:
        raise SystemExit  # serve_forever(handle_exit=True) catches it, then close_all()

    def handle_close(self) -> None:
        self.close()

    def wake(self) -> None:
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
            sock = handler.socket  # type: ignore[attr-defined]
            # a TLS connection (pyOpenSSL) shuts its socket with sock_shutdown; its shutdown() is the TLS one
            with contextlib.suppress(Exception):
                (getattr(sock, "sock_shutdown", None) or sock.shutdown)(socket.SHUT_RDWR)
        super().close_all()


class FTPFrontEnd:
    def __init__(self, gateway: Gateway):
        self.gateway = gateway
        self.server: GatewayFTPServer | None = None
        self.thread: threading.Thread | None = None
        self.waker: _Waker | None = None

    def start(self) -> str:
        settings = self.gateway.settings
        tls = gateway_tls_identity(settings.resolved_data_dir)
        handler = type("BoundFTPHandler", (GatewayFTPHandler,), {
            "gateway": self.gateway, "authorizer": GatewayAuthorizer(self.gateway),
            "certfile": str(settings.resolved_data_dir / "keys" / "tls.pem"),
            "keyfile": str(settings.resolved_data_dir / "keys" / "tls.key"),
            "passive_ports": passive_range(settings.ftp_passive_ports), "ssl_context": None,
        })
        assert tls.certificate is not None
        self.server = GatewayFTPServer(host_port(settings.ftp_bind), handler, ioloop=IOLoop())
        self.server.max_cons = 512
        self.waker = _Waker(self.server.ioloop)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"timeout": 5, "blocking": True},
                                       name="ftp", daemon=True)
        self.thread.start()
        host, port = self.server.address[:2]
        return f"{host}:{port}"

    def stop(self) -> None:
        if self.waker is not None and self.thread is not None and self.thread.is_alive():
            self.waker.wake()
            self.thread.join(10)
