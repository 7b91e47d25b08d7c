"""The FTP/FTPS listener: pyftpdlib's threaded server (one thread per connection) in a thread of its own."""

from __future__ import annotations

import logging
import threading

from pyftpdlib.servers import ThreadedFTPServer

from admin_api.settings import host_port
from gateway.core.gateway import Gateway
from gateway.ftp.handler import GatewayAuthorizer, GatewayFTPHandler
from keys.issuing import gateway_tls_identity

logging.getLogger("pyftpdlib").setLevel(logging.WARNING)


def passive_range(spec: str) -> list[int]:
    low, _, high = spec.partition("-")
    return list(range(int(low), int(high or low) + 1))


class FTPFrontEnd:
    def __init__(self, gateway: Gateway):
        self.gateway = gateway
        self.server: ThreadedFTPServer | None = None
        self.thread: threading.Thread | None = None

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
        self.server = ThreadedFTPServer(host_port(settings.ftp_bind), handler)
        self.server.max_cons = 512
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"timeout": 0.5, "blocking": True},
                                       name="ftp", daemon=True)
        self.thread.start()
        host, port = self.server.address[:2]
        return f"{host}:{port}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.close_all()
        if self.thread is not None:
            self.thread.join(10)
