"""One process, every endpoint: clean start-up (migrations, keys, demo seed) and clean shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from datetime import timedelta

import uvicorn

from admin_api.app import build_services
from admin_api.http import Services
from admin_api.mail import deliver_pending
from gateway.core.gateway import Gateway
from gateway.ftp.server import FTPFrontEnd
from gateway.retention import run_exclusive
from gateway.sftp.server import SFTPFrontEnd
from gga import logs
from gga.health import Check
from gga.http_limits import server_config
from gga.wiring import build_gateway, http_app
from kernel.settings import Settings, host_port
from store.database import upgrade

log = logging.getLogger("gga")


class Runtime:
    """Starts the HTTP server (admin API + web service) and the background pumps; stops them in order."""

    def __init__(self, settings: Settings, demo: bool = False):
        self.settings = settings
        self.demo = demo
        self.services: Services | None = None
        self.http: uvicorn.Server | None = None
        self.tasks: list[asyncio.Task] = []
        self.endpoints: dict[str, str] = {}
        self.stopping = asyncio.Event()
        self.gateway: Gateway | None = None
        self.sftp: SFTPFrontEnd | None = None
        self.ftp: FTPFrontEnd | None = None

    async def start(self) -> None:
        s = self.settings
        s.resolved_data_dir.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(upgrade, s.resolved_database_url)
        self.services = build_services(s, dev_issuer=s.dev_issuer)
        if self.demo:
            from gga.demo import seed

            await asyncio.to_thread(seed, self.services)
        self.gateway = build_gateway(self.services)
        self.sftp = SFTPFrontEnd(self.gateway)
        self.endpoints["sftp"] = "sftp://" + await asyncio.to_thread(self.sftp.start)
        self.ftp = FTPFrontEnd(self.gateway)
        self.endpoints["ftp"] = "ftp://" + await asyncio.to_thread(self.ftp.start) + " (AUTH TLS)"
        app = http_app(self.services, self.gateway, self.listener_checks())
        host, port = host_port(s.http_bind)
        self.http = uvicorn.Server(server_config(app, s, host, port))
        logs.adopt_uvicorn()  # uvicorn's Config installed its own handlers
        self.http.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self.tasks.append(asyncio.create_task(self.http.serve(), name="http"))
        while not self.http.started:
            if self.tasks[0].done():
                self.tasks[0].result()
            await asyncio.sleep(0.02)
        bound = self.http.servers[0].sockets[0].getsockname()
        self.endpoints["http"] = f"http://{bound[0]}:{bound[1]}"
        if s.public_url:  # what clients are told (token audience), when a proxy or DNS name stands in front
            self.endpoints["http"] += f" (public URL {s.resolved_public_url})"
        self.tasks.append(asyncio.create_task(self._mail_pump(), name="mail"))
        self.tasks.append(asyncio.create_task(self._orphan_sweeper(), name="sweeper"))
        recovered = await asyncio.to_thread(self.gateway.start)
        self.tasks.append(asyncio.create_task(self._retention(), name="retention"))
        if recovered:
            log.info("gga: taking up %d submissions interrupted by the last stop", recovered)

    def listener_checks(self) -> list[Check]:
        """Readiness of each listener, read at each ``/readyz``: None while it accepts connections."""
        def answer(up: bool) -> str | None:
            return None if up else "not accepting connections"

        def sftp() -> str | None:
            front = self.sftp
            return answer(front is not None and front.server is not None and alive(front.thread))

        def ftp() -> str | None:
            front = self.ftp
            listening = front is not None and front.server is not None and front.server.socket is not None
            return answer(listening and front.server.socket.fileno() >= 0 and alive(front.thread))  # closed: -1

        def http() -> str | None:
            h = self.http
            return answer(h is not None and h.started and not h.should_exit and any(x.is_serving() for x in h.servers))

        return [("sftp", sftp), ("ftp", ftp), ("http", http)]

    async def _mail_pump(self) -> None:
        assert self.services is not None
        while True:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(deliver_pending, self.services.db, self.settings)
            await asyncio.sleep(1.0)

    async def _orphan_sweeper(self) -> None:
        """Every minute: parts that waited too long for their GO get their ACRF-130."""
        assert self.gateway is not None
        wait = timedelta(hours=self.settings.go_wait_hours)
        while True:
            await asyncio.sleep(60)
            try:
                await asyncio.to_thread(self.gateway.pipeline.sweep_orphans, wait)
            except Exception:
                log.exception("orphan sweep failed; next try in a minute")

    async def drain(self) -> None:
        """SIGTERM: no new connections on any listener; uploads under way may finish for ``GGA_DRAIN_S``."""
        if self.sftp is not None:
            await asyncio.to_thread(self.sftp.stop_accepting)
        if self.ftp is not None:
            await asyncio.to_thread(self.ftp.stop_accepting)
        if self.http is not None:
            for server in self.http.servers:
                server.close()  # stops listening; requests under way go on
        deadline = time.monotonic() + self.settings.drain_s
        while self.gateway is not None and self.gateway.transfers.in_flight and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        left = self.gateway.transfers.in_flight if self.gateway is not None else 0
        log.info("gga: drained; %d upload(s) still open are cut and logged incomplete", left)

    async def _retention(self) -> None:
        """Retention (gateway/retention.py) now and every GGA_RETENTION_EVERY_S; one instance at a time."""
        assert self.gateway is not None and self.services is not None
        while True:
            try:
                await asyncio.to_thread(run_exclusive, self.services.db, self.gateway.spool.root, self.settings)
            except Exception:
                log.exception("retention round failed; next try in GGA_RETENTION_EVERY_S")
            await asyncio.sleep(self.settings.retention_every_s)

    async def stop(self) -> None:
        if self.sftp is not None:
            await asyncio.to_thread(self.sftp.stop)
        if self.ftp is not None:
            await asyncio.to_thread(self.ftp.stop)
        if self.http is not None:
            self.http.should_exit = True
        for task in reversed(self.tasks):
            if task.get_name() != "http":
                task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.gateway is not None:
            await asyncio.to_thread(self.gateway.close)
        if self.services is not None:
            self.services.db.dispose()


def alive(thread: threading.Thread | None) -> bool:
    return thread is not None and thread.is_alive()


async def serve_forever(settings: Settings, demo: bool) -> None:
    runtime = Runtime(settings, demo)
    await runtime.start()
    for name, url in runtime.endpoints.items():
        log.info("gga: %-5s %s", name, url, extra={"context": {"endpoint": name, "url": url.split(" ")[0]}})
    if demo:
        demo_dir = settings.resolved_data_dir / "demo"
        log.info("gga: demo  %s (README.txt, sender.json)", demo_dir, extra={"context": {"demo": str(demo_dir)}})
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, runtime.stopping.set)
    await runtime.stopping.wait()
    log.info("gga: stopping (uploads under way may finish for %g s)", settings.drain_s)
    await runtime.drain()
    await runtime.stop()


def run(settings: Settings, demo: bool = False) -> None:
    logs.configure(settings.log_format)
    asyncio.run(serve_forever(settings, demo))
