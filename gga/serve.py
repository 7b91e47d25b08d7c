"""One process, every endpoint: clean start-up (migrations, keys, demo seed) and clean shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from datetime import timedelta

import uvicorn

from admin_api.app import build_services
from admin_api.http import Services
from admin_api.mail import deliver_pending
from gateway.core.gateway import Gateway
from gateway.ftp.server import FTPFrontEnd
from gateway.sftp.server import SFTPFrontEnd
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
        app = http_app(self.services, self.gateway)
        host, port = host_port(s.http_bind)
        self.http = uvicorn.Server(server_config(app, s, host, port))
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
        if recovered:
            log.info("gga: taking up %d submissions interrupted by the last stop", recovered)

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


async def serve_forever(settings: Settings, demo: bool) -> None:
    runtime = Runtime(settings, demo)
    await runtime.start()
    for name, url in runtime.endpoints.items():
        print(f"gga: {name:5} {url}", flush=True)
    if demo:
        print(f"gga: demo  {settings.resolved_data_dir / 'demo'} (README.txt, sender.json)", flush=True)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, runtime.stopping.set)
    await runtime.stopping.wait()
    print(f"gga: stopping (uploads under way may finish for {settings.drain_s:g} s)", flush=True)
    await runtime.drain()
    await runtime.stop()


def run(settings: Settings, demo: bool = False) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("asyncssh").setLevel(logging.WARNING)
    asyncio.run(serve_forever(settings, demo))
