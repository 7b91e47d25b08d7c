"""`gga serve --workers 2` while senders upload over SFTP: one worker at a time is killed with SIGKILL while it holds
a sender's session. The supervisor starts it again (a new process; the ports keep answering meanwhile), every GO
that was acknowledged gets exactly one ACRF, and the transfer log, the submissions and the files on disk agree.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import asyncssh
import httpx
import pytest
from sqlalchemy import select

from gateway.core.gateway import Gateway
from gga.serve import Runtime
from store.models import LiveSession, Submission, TransferEvent
from tests.gateway.harness import SenderKit, _passive_ports, build, seed_sender
from tests.gga.test_crash import (
    Client,
    Instance,
    Outcome,
    _free_ports,
    _listening,
    _one_acrf_each,
    _outbox_drained,
    _parts_delivered,
)
from tests.gga.test_workers import children, running, start, wait_gone

pytestmark = pytest.mark.slow
INSTANCE = "wk"  # the workers' ids: wk-w0, wk-w1
KILLS = 3
CLIENTS = 4
AFTER_KILLS = 6  # submissions started once the last restarted worker is ready: the service still takes work
HELD = 90000  # the sequence numbers of the uploads held open on the worker killed (the senders' stay below)
MAX_SUBMISSIONS = 600  # a bound only: the senders stop AFTER_KILLS submissions after the kills
HOLD_TRIES = 40  # connections opened to land one on the worker to kill (the kernel spreads them by address hash)
RUN_S = 50  # clients, kills and restarts; what the test waits for afterwards has its own bounds
READY = re.compile(r"worker (\d+) ready \(pid (\d+)\)")


class CountingClient(Client):
    """test_crash's client, with every answer counted."""

    def __init__(self, kit: SenderKit, instances: list[Instance], outcome: Outcome, stop_at: float):
        super().__init__(kit, instances, outcome, stop_at)
        self.answers: Counter[str] = Counter()
        self.lock = threading.Lock()

    def _sftp(self, instance: Instance, folder: str, name: str, data: bytes) -> str:
        try:
            answer = super()._sftp(instance, folder, name, data)
        except (TimeoutError, OSError, asyncssh.Error) as exc:
            answer = f"cut: {exc!r}"
        with self.lock:
            self.answers[re.sub(r"\(.*", "", answer)] += 1  # "cut: SFTPConnectionLost('...')" -> by exception
        return answer


def worker_pids(log: Path) -> dict[int, int]:
    """Each worker's latest process, as the supervisor logged it when the worker said it was ready."""
    return {int(index): int(pid) for index, pid in READY.findall(log.read_text(errors="replace"))}


def holder(db, client_port: int) -> str | None:  # type: ignore[no-untyped-def]
    """Which worker holds the SFTP session coming from that client port (its row is written just after the
    login completes: waited for, a few seconds at most)."""
    deadline = time.monotonic() + 5
    while True:
        with db.session() as session:
            found = session.scalar(select(LiveSession.instance).where(
                LiveSession.remote_address == f"127.0.0.1:{client_port}"))
        if found is not None or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


async def open_upload_on(client: Client, db, worker: str, path: str,  # type: ignore[no-untyped-def]
                         data: bytes) -> tuple[asyncssh.SSHClientConnection, asyncssh.SFTPClientFile]:
    """An upload left open on that worker with ``data`` written (connections opened one by one until the kernel
    gives one to it; the others are closed)."""
    for _ in range(HOLD_TRIES):
        conn = await asyncssh.connect("127.0.0.1", client.instances[0].sftp, username=client.kit.technical_user,
                                      client_keys=[client.key], known_hosts=None, connect_timeout=10)
        if await asyncio.to_thread(holder, db, conn.get_extra_info("sockname")[1]) == worker:
            sftp = await conn.start_sftp_client()
            file = await sftp.open(path, "wb")
            await file.write(data)  # answered: the bytes are in the worker's half upload
            return conn, file
        conn.close()
        await conn.wait_closed()
    raise AssertionError(f"no connection reached {worker} in {HOLD_TRIES} tries")


async def finish(conn: asyncssh.SSHClientConnection, file: asyncssh.SFTPClientFile, data: bytes) -> str:
    """The rest of the held upload, after its worker was killed: what the sender is told."""
    try:
        await asyncio.wait_for(file.write(data), 10)
        await asyncio.wait_for(file.close(), 10)
        return "ok"
    except (TimeoutError, OSError, asyncssh.Error) as exc:
        return f"cut: {exc!r}"
    finally:
        conn.abort()


def wait_restarted(log: Path, supervisor: int, index: int, old: int, ports: tuple[int, ...],
                   timeout: float = 60) -> int:
    """The new process of worker ``index`` once it is ready; meanwhile the sibling keeps the ports answering."""
    deadline = time.monotonic() + timeout
    while (new := worker_pids(log).get(index)) == old:
        assert time.monotonic() < deadline, f"worker {index} was not started again within {timeout} s"
        assert all(_listening(port) for port in ports), "a port went unanswered while a worker restarted"
        time.sleep(0.05)
    assert new in children(supervisor), (new, children(supervisor))
    return new


def wait_all_final(db, timeout: float) -> None:  # type: ignore[no-untyped-def]
    """Every submission recorded (acknowledged or not) decided: nothing a killed worker held stays stuck."""
    deadline = time.monotonic() + timeout
    while True:
        with db.session() as session:
            open_ = session.execute(select(Submission.go_name, Submission.status, Submission.lease_owner).where(
                Submission.status.notin_(("accepted", "rejected")))).all()
        if not open_:
            return
        assert time.monotonic() < deadline, f"{len(open_)} submissions never decided: {open_[:5]}"
        time.sleep(0.2)


def log_agrees(db, outcome: Outcome) -> set[str]:  # type: ignore[no-untyped-def]
    """One submission per GO recorded and one per submission logged, nothing stored twice; returns the uploads the
    restarted workers cleared (a killed worker's half uploads)."""
    with db.session() as session:
        subs = session.execute(select(Submission.go_name, Submission.status, Submission.acrf_name)).all()
        events = session.execute(select(TransferEvent.event, TransferEvent.result, TransferEvent.file_name,
                                        TransferEvent.details, TransferEvent.protocol)).all()
    per_go = Counter(s.go_name for s in subs)
    assert {go: n for go, n in per_go.items() if n != 1} == {}
    stored = Counter(e.file_name for e in events if e.event == "upload" and e.result == "ok")
    assert {name: n for name, n in stored.items() if n != 1} == {}, "a file stored twice"
    assert set(per_go) == {name for name in stored if name.startswith("GO.")}  # every GO stored opened one
    decided = Counter((e.file_name, e.result) for e in events if e.event == "submission")
    assert sorted(decided) == sorted((s.go_name, s.status) for s in subs)  # each logged once, as decided
    assert all(n == 1 for n in decided.values())
    assert all(s.acrf_name for s in subs)
    assert outcome.acked_gos <= set(per_go)
    removed = [e for e in events if e.event == "upload" and e.result == "incomplete"
               and (e.details or {}).get("removed_at_start")]
    assert all(e.protocol == e.details["channel"] for e in removed), removed  # counted under its channel, not "-"
    return {e.file_name for e in removed}


def test_a_worker_killed_mid_upload_loses_no_acknowledged_submission(services, db, data_dir, database_url,
                                                                      tmp_path):
    started = time.monotonic()
    kit = seed_sender(db, services, tmp_path)
    sftp, ftp, http, low = _free_ports(4)
    env = {**os.environ, "GGA_DATABASE_URL": database_url, "GGA_DATA_DIR": str(data_dir), "GGA_DRAIN_S": "5",
           "GGA_INSTANCE_ID": INSTANCE, "GGA_SFTP_BIND": f"127.0.0.1:{sftp}", "GGA_FTP_BIND": f"127.0.0.1:{ftp}",
           "GGA_HTTP_BIND": f"127.0.0.1:{http}", "GGA_FTP_PASSIVE_PORTS": f"{low}-{low + 9}",
           "GGA_MAX_SESSIONS_PER_SENDER": "100", "GGA_LOG_FORMAT": "json"}
    for name in ("PROMETHEUS_MULTIPROC_DIR", "GGA_AMQP_URL"):  # the in-process bus: the outbox is marked at once
        env.pop(name, None)
    log = tmp_path / "workers.log"
    process = start(env, log, http, sftp)
    seen = set(children(process.pid))  # every process of the tree, stopped at the end whatever happens
    instance = Instance("workers", env, sftp, http, log, process)
    outcome = Outcome()
    client = CountingClient(kit, [instance], outcome, stop_at=time.monotonic() + RUN_S)
    lock = threading.Lock()
    killed = threading.Event()
    plan = {"next": 1, "after": 0}
    held: list[tuple[str, str]] = []  # (file name, what its sender was told when its worker was killed)
    restarts: list[tuple[int, int, int, float]] = []  # (worker, old pid, new pid, seconds to ready)
    failures: list[BaseException] = []

    def sender() -> None:
        while True:
            with lock:
                if plan["next"] > MAX_SUBMISSIONS or (killed.is_set() and plan["after"] >= AFTER_KILLS):
                    return
                seq, plan["next"] = plan["next"], plan["next"] + 1
                plan["after"] += killed.is_set()
            client.send(seq, "SFTP")

    def killer() -> None:
        """Each worker in turn (never both at once) killed while it holds an upload the test left half sent; once
        it is back, the sender sends that submission again, whole."""
        loop = asyncio.new_event_loop()
        try:
            for n in range(KILLS):
                index, seq = n % 2, HELD + n
                time.sleep(random.uniform(0.3, 1.0))  # while the senders' uploads flow
                old = worker_pids(log)[index]
                assert old in children(process.pid)
                folder, name, data = build(kit, seq=f"{seq:05d}").files[0]
                conn, file = loop.run_until_complete(open_upload_on(client, db, f"{INSTANCE}-w{index}",
                                                                    f"/{folder}/{name}", data[:20]))
                os.kill(old, signal.SIGKILL)
                at = time.monotonic()
                held.append((name, loop.run_until_complete(finish(conn, file, data[20:]))))
                new = wait_restarted(log, process.pid, index, old, (sftp, ftp, http))
                seen.update(children(process.pid))
                restarts.append((index, old, new, round(time.monotonic() - at, 1)))
                assert not running(old)
                client.send(seq, "SFTP")  # the name the dead worker held is free again
        except BaseException as exc:  # reported by the test's thread
            failures.append(exc)
        finally:
            killed.set()
            loop.close()

    threads = [threading.Thread(target=sender) for _ in range(CLIENTS)] + [threading.Thread(target=killer)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(RUN_S + 30)
        assert not any(t.is_alive() for t in threads)
        assert failures == [], failures
        assert [r[0] for r in restarts] == [n % 2 for n in range(KILLS)]
        print(f"restarts {restarts}, held {held}, answers {dict(client.answers)}, "
              f"acknowledged GOs {len(outcome.acked_gos)}, cut GOs {len(outcome.unacked_gos)}, "
              f"submissions {plan['next'] - 1}")
        assert outcome.errors == [], outcome.errors
        assert [(name, answer.startswith("cut")) for name, answer in held] == [(name, True) for name, _ in held]
        resent = {build(kit, seq=f"{HELD + n:05d}").go for n in range(KILLS)}
        assert resent <= outcome.acked_gos  # sent again once its worker was back: acknowledged
        assert len(outcome.acked_gos) + len(outcome.unacked_gos) == plan["next"] - 1 + KILLS  # no sender stuck
        assert plan["after"] >= AFTER_KILLS  # the restarted workers took new work
        assert sorted(worker_pids(log)) == [0, 1] and set(worker_pids(log).values()) <= set(children(process.pid))
        assert httpx.get(f"http://127.0.0.1:{http}/readyz", timeout=10).status_code == 200
        wait_all_final(db, timeout=30)
        _outbox_drained(db, deadline=time.monotonic() + 30)
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
        assert wait_gone(sorted(seen)) == []
    finally:
        if process.poll() is None:
            seen.update(children(process.pid))  # read first: a parent killed leaves its children to init
            process.kill()
            process.wait(10)
        for pid in wait_gone(sorted(seen), timeout=10):
            os.kill(pid, signal.SIGKILL)  # never leave a worker holding the ports
    _one_acrf_each(data_dir, kit, outcome)
    accepted = _parts_delivered(db, data_dir)
    assert outcome.acked_gos <= set(accepted)  # their parts were all acknowledged before the GO went
    cleared = log_agrees(db, outcome)
    assert {name for name, _ in held} <= cleared  # the restarted worker logged the half upload it found
    leftovers = [p for p in (data_dir / "spool" / "mailboxes").rglob(".partial/**/*") if not p.is_dir()]
    assert leftovers == []
    print(f"cleared at restart {len(cleared)}, test took {time.monotonic() - started:.1f} s")


def test_start_up_clears_the_last_stop_before_any_endpoint_listens(settings, db, monkeypatch):  # type: ignore[no-untyped-def]
    """The deterministic side of the test above: a worker restarts under its old instance name, so a client it
    served before clearing "its" leftovers would lose the upload it had just sent (as happened before the fix)."""
    local = settings.model_copy(update={"sftp_bind": "127.0.0.1:0", "ftp_bind": "127.0.0.1:0",
                                        "http_bind": "127.0.0.1:0", "ftp_passive_ports": _passive_ports()})
    runtime = Runtime(local)
    listening_at_clear: list[tuple[bool, bool, bool]] = []
    clear = Gateway.clear_last_stop

    def clearing(gateway: Gateway) -> None:
        listening_at_clear.append((runtime.sftp is not None, runtime.ftp is not None, runtime.http is not None))
        clear(gateway)

    monkeypatch.setattr(Gateway, "clear_last_stop", clearing)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(runtime.start(), loop).result(60)
        assert listening_at_clear == [(False, False, False)]  # once, and before SFTP, FTP and HTTP
        assert runtime.sftp is not None and runtime.ftp is not None and runtime.http is not None
    finally:
        asyncio.run_coroutine_threadsafe(runtime.stop(), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
