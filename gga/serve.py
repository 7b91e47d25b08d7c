"""Every endpoint in one process, or in ``--workers N`` processes on the same ports: clean start-up (migrations,
keys, demo seed, once) and clean shutdown (SIGTERM drains every worker)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import threading
import time
from datetime import timedelta
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue

import uvicorn

from admin_api.app import build_services
from admin_api.http import Services
from admin_api.mail import deliver_pending
from gateway.core.dealt import Dealt
from gateway.core.gateway import Gateway
from gateway.core.reservation import owner_folder
from gateway.ftp.server import FTPFrontEnd, passive_ports_for, passive_range
from gateway.retention import run_exclusive
from gateway.sftp.server import SFTPFrontEnd
from gga import logs
from gga.dealer import Dealer
from gga.health import Check
from gga.http_limits import server_config
from gga.wiring import build_gateway, http_app
from kernel.settings import Settings, host_port
from keys.issuing import gateway_signing_identity, gateway_tls_identity
from keys.ssh import ensure_host_keys
from store.database import upgrade

log = logging.getLogger("gga")


class Runtime:
    """Starts the HTTP server (admin API + web service) and the background pumps; stops them in order."""

    def __init__(self, settings: Settings, demo: bool = False, dealt: Dealt | None = None):
        self.settings = settings
        self.demo = demo
        self.dealt = dealt  # a worker whose parent accepts the SFTP connections and deals them out
        self.prepared = settings.worker is not None  # a worker: the parent migrated, seeded and made the keys
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
        if self.prepared:
            self.services = build_services(s, dev_issuer=s.dev_issuer)
        else:
            self.services = await asyncio.to_thread(prepare, s, self.demo)
        self.gateway = build_gateway(self.services)
        await asyncio.to_thread(self.gateway.clear_last_stop)  # before any client can start an upload here
        shared = s.worker is not None  # several processes on the same ports
        self.sftp = SFTPFrontEnd(self.gateway, dealt=self.dealt)  # a worker's connections: dealt by its parent
        self.endpoints["sftp"] = "sftp://" + await asyncio.to_thread(self.sftp.start)
        passive = passive_ports_for(s.worker, s.workers, passive_range(s.ftp_passive_ports)) if shared else None
        self.ftp = FTPFrontEnd(self.gateway, reuse_port=shared, passive_ports=passive)
        self.endpoints["ftp"] = "ftp://" + await asyncio.to_thread(self.ftp.start) + " (AUTH TLS)"
        app = http_app(self.services, self.gateway, self.listener_checks())
        host, port = host_port(s.http_bind)
        self.http = uvicorn.Server(server_config(app, s, host, port))
        logs.adopt_uvicorn()  # uvicorn's Config installed its own handlers
        self.http.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        sockets = [shared_listener(host, port)] if shared else None
        self.tasks.append(asyncio.create_task(self.http.serve(sockets=sockets), name="http"))
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
        recovered = await asyncio.to_thread(self.gateway.start, clear=False)
        self.tasks.append(asyncio.create_task(self._retention(), name="retention"))
        if recovered:
            log.info("gga: taking up %d submissions interrupted by the last stop", recovered)

    def listener_checks(self) -> list[Check]:
        """Readiness of each listener, read at each ``/readyz``: None while it accepts connections."""
        def answer(up: bool) -> str | None:
            return None if up else "not accepting connections"

        def sftp() -> str | None:
            front = self.sftp
            return answer(front is not None and front.accepting and alive(front.thread))

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
            try:
                await asyncio.to_thread(deliver_pending, self.services.db, self.settings)
            except Exception:
                log.exception("mail pump (retried in a second)")
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
        """Each step runs whatever the ones before it raised (a front end slow to stop must not skip the pipeline's
        last commits, the outbox's last events or the database's close); the first error is raised at the end."""
        steps = [self.sftp and self.sftp.stop, self.ftp and self.ftp.stop, self._stop_tasks,
                 self.gateway and self.gateway.close, self.services and self.services.db.dispose]
        failed: Exception | None = None
        for step in filter(None, steps):
            try:
                await (step() if asyncio.iscoroutinefunction(step) else asyncio.to_thread(step))
            except Exception as exc:
                log.exception("stopping")
                failed = failed or exc
        if failed is not None:
            raise failed

    async def _stop_tasks(self) -> None:
        if self.http is not None:
            self.http.should_exit = True
        for task in reversed(self.tasks):
            if task.get_name() != "http":
                task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def alive(thread: threading.Thread | None) -> bool:
    return thread is not None and thread.is_alive()


def prepare(settings: Settings, demo: bool, keys: bool = False) -> Services:
    """What happens once per start, before any endpoint listens: migrations, the demo seed and, for workers that
    would race to make them, the keys (one process makes its own as its endpoints start)."""
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    services = build_services(settings, dev_issuer=settings.dev_issuer)
    if demo:
        from gga.demo import seed

        seed(services)
    if keys:
        gateway_signing_identity(settings.resolved_data_dir)
        gateway_tls_identity(settings.resolved_data_dir)
        ensure_host_keys(settings.resolved_data_dir)
    return services


def shared_listener(host: str, port: int) -> socket.socket:
    """The HTTP port with SO_REUSEPORT: every worker listens on it and the kernel spreads the connections."""
    family, kind, proto, _, address = socket.getaddrinfo(host or None, port, socket.AF_UNSPEC, socket.SOCK_STREAM,
                                                         0, socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.listen(2048)
    sock.set_inheritable(False)
    return sock


def announce(settings: Settings, endpoints: dict[str, str], demo: bool) -> None:
    for name, url in endpoints.items():
        log.info("gga: %-5s %s", name, url, extra={"context": {"endpoint": name, "url": url.split(" ")[0]}})
    if demo:
        demo_dir = settings.resolved_data_dir / "demo"
        log.info("gga: demo  %s (README.txt, sender.json)", demo_dir, extra={"context": {"demo": str(demo_dir)}})


def freeze_start_up_objects() -> None:
    """What start-up built (modules, services, mappers, keys) lives as long as the process: frozen out of the cyclic
    collector's reach. Measured: its older-generation collections walked those objects over and over and took 6-10 %
    of the CPU of many small uploads (perf, bench/scale.py). Young collections keep Python's pace: an unclosed
    database session caught in a cycle still gives back SQLite's write turn as soon as before."""
    gc.collect()
    gc.freeze()


async def serve_forever(settings: Settings, demo: bool, ready: Queue | None = None,
                        dealt: Dealt | None = None) -> None:
    """Serve until SIGTERM or SIGINT. A worker tells its parent on ``ready`` instead of announcing itself."""
    runtime = Runtime(settings, demo, dealt)
    await runtime.start()
    freeze_start_up_objects()
    if ready is None:
        announce(settings, runtime.endpoints, demo)
    else:
        ready.put((settings.worker, os.getpid(), runtime.endpoints))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, runtime.stopping.set)
    await runtime.stopping.wait()
    log.info("gga: stopping (uploads under way may finish for %g s)", settings.drain_s)
    await runtime.drain()
    await runtime.stop()


def run(settings: Settings, demo: bool = False, workers: int = 1) -> None:
    logs.configure(settings.log_format)
    settings = settings.model_copy(update={"worker": None})  # only the parent names its workers
    if workers <= 1:
        asyncio.run(serve_forever(settings, demo))
    else:
        raise SystemExit(Supervisor(settings.model_copy(update={"workers": workers}), demo).run())


def worker_count(spec: str) -> int:
    """``--workers``: a positive number, or ``auto`` for one per core."""
    if spec.strip().lower() == "auto":
        return os.cpu_count() or 1
    count = int(spec)
    if count < 1:
        raise ValueError("--workers must be at least 1")
    return count


def worker_main(settings: Settings, demo: bool, ready: Queue, parent: int, sftp_channel: socket.socket,
                sftp_address: str) -> None:
    """A worker process (spawned): every endpoint, on the ports its siblings share; SFTP connections dealt by the
    parent down ``sftp_channel``."""
    _stop_with_parent()
    if os.getppid() != parent:  # the parent died before the death signal was asked for
        return
    logs.configure(settings.log_format)
    asyncio.run(serve_forever(settings, demo, ready, Dealt(sftp_channel, sftp_address)))


def _stop_with_parent() -> None:
    """Linux: SIGTERM (a drain) when the parent dies, even by SIGKILL, so no worker is left holding the ports."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


PR_SET_PDEATHSIG = 1


class Supervisor:
    """``gga serve --workers N``: prepares once, starts N workers, restarts one that dies, and on SIGTERM or SIGINT
    passes SIGTERM to each (each drains its own uploads) and waits for them."""

    # a worker that keeps dying (its database unreachable for a while, say) is started again less and less often,
    # never given up: the service runs unattended, and its healthy workers go on meanwhile
    RESTART_PAUSE_S, RESTART_PAUSE_MAX_S = 1.0, 60.0
    STEADY_S = 300.0  # a worker that ran this long before it died starts again after the shortest pause

    def __init__(self, settings: Settings, demo: bool):
        self.settings, self.demo = settings, demo
        self.context = multiprocessing.get_context("spawn")  # fresh interpreters: no threads or engines inherited
        self.ready: Queue = self.context.Queue()
        self.workers: list[BaseProcess] = []
        self.dealer: Dealer | None = None
        self.stopping = threading.Event()
        self._pause: dict[int, float] = {}  # each worker's pause before its next start (doubled while it dies young)
        self._due: dict[int, float] = {}  # when each dead worker is started again
        self._started: dict[int, float] = {}  # when each worker was last started

    def run(self) -> int:
        self._metrics_folder()
        # SIGTERM's own action until the workers are about to start: the migrations, seeding and keys may wait
        # without end (another process's migration lock, an unreachable database), and a stop must still stop
        prepare(self.settings, self.demo, keys=True).db.dispose()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stopping.set())
        try:
            self.dealer = Dealer(self.settings.sftp_bind, self.settings.workers)
        except OSError as exc:
            log.error("gga: cannot listen for SFTP on %s: %s", self.settings.sftp_bind, exc)
            return 1
        self.workers = [self._spawn(i) for i in range(self.settings.workers)]
        self.dealer.start()
        endpoints = self._wait_ready()
        if endpoints is None:
            self._stop()
            return 1
        announce(self.settings, endpoints, self.demo)
        while not self.stopping.wait(0.5):
            self._drain_ready()
            self._restart_dead()
        log.info("gga: stopping %d workers (uploads under way may finish for %g s)", len(self.workers),
                 self.settings.drain_s)
        self._stop()
        return 0

    def _metrics_folder(self) -> None:
        """prometheus-client's multi-process files: one folder for this instance's workers, emptied at its start
        (instances sharing the data folder each have theirs: a second one's start wiped the first's counters)."""
        folder = self.settings.resolved_data_dir / "metrics" / owner_folder(self.settings.instance_base_id)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)  # inherited by the workers spawned from now on

    def _spawn(self, index: int) -> BaseProcess:
        settings = self.settings.model_copy(update={"worker": index})
        assert self.dealer is not None
        channel = self.dealer.channel_for(index)
        process = self.context.Process(target=worker_main, name=f"gga-worker-{index}", daemon=False, args=(
            settings, self.demo, self.ready, os.getpid(), channel, self.dealer.address))
        process.start()
        channel.close()  # the worker's end is the worker's: a worker that dies closes it, and dealing skips it
        self._started[index] = time.monotonic()
        return process

    def _wait_ready(self, timeout: float = 300) -> dict[str, str] | None:
        endpoints: dict[str, str] = {}
        started: set[int] = set()
        deadline = time.monotonic() + timeout
        while len(started) < len(self.workers) and time.monotonic() < deadline and not self.stopping.is_set():
            with contextlib.suppress(Exception):
                index, pid, endpoints = self.ready.get(timeout=0.5)
                started.add(index)
                log.info("gga: worker %d ready (pid %d)", index, pid, extra={"context": {"worker": index, "pid": pid}})
            if any(not w.is_alive() for w in self.workers):
                log.error("gga: a worker exited during start-up")
                return None
        return endpoints if len(started) == len(self.workers) else None

    def _drain_ready(self) -> None:
        """A restarted worker says it is ready too: read it (an unread queue would fill its pipe)."""
        with contextlib.suppress(Exception):
            while True:
                index, pid, _ = self.ready.get_nowait()
                log.info("gga: worker %d ready (pid %d)", index, pid, extra={"context": {"worker": index, "pid": pid}})

    def _restart_dead(self) -> None:
        """A dead worker is started again after a pause: 1 s, doubled each time it dies within ``STEADY_S`` of its
        start, at most ``RESTART_PAUSE_MAX_S``."""
        now = time.monotonic()
        for index, worker in enumerate(self.workers):
            if worker.is_alive() or self.stopping.is_set():
                continue
            due = self._due.get(index)
            if due is None:  # just found dead
                young = now - self._started.get(index, now) < self.STEADY_S
                pause = min(2 * self._pause[index], self.RESTART_PAUSE_MAX_S) if young and index in self._pause \
                    else self.RESTART_PAUSE_S
                self._pause[index], self._due[index] = pause, now + pause
                log.error("gga: worker %d (pid %s) exited with %s; starting it again in %g s", index, worker.pid,
                          worker.exitcode, pause, extra={"context": {"worker": index, "exit_code": worker.exitcode,
                                                                     "restart_in_s": pause}})
            elif now >= due:
                del self._due[index]
                self.workers[index] = self._spawn(index)

    def _stop(self) -> None:
        if self.dealer is not None:  # no new SFTP connections; each worker serves those it has
            self.dealer.stop()
        for worker in self.workers:
            if worker.is_alive() and worker.pid is not None:
                os.kill(worker.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.settings.drain_s + 60
        for worker in self.workers:
            worker.join(max(0.0, deadline - time.monotonic()))
            if worker.is_alive():
                worker.kill()
                worker.join(10)
