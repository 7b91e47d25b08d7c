"""``gga serve --workers``: a worker that dies is started again, after a pause that doubles while it keeps dying
young (up to a minute), and never given up: a database away for a while must not end a service that runs
unattended (its healthy workers go on meanwhile)."""

from __future__ import annotations

import time
import types

import gga.serve
from gga.serve import Supervisor
from kernel.settings import Settings


class Dead:
    pid, exitcode = 4242, 3

    def is_alive(self) -> bool:
        return False


class Alive(Dead):
    def is_alive(self) -> bool:
        return True


def test_a_worker_that_keeps_dying_is_started_again_less_and_less_often_and_never_given_up(tmp_path, monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(gga.serve, "time", types.SimpleNamespace(monotonic=lambda: clock[0]))
    supervisor = Supervisor(Settings(data_dir=tmp_path, workers=2), demo=False)
    spawned: list[tuple[int, float]] = []

    def spawn(index: int) -> Dead:
        spawned.append((index, clock[0]))
        supervisor._started[index] = clock[0]
        return Dead() if index == 0 else Alive()  # worker 0 dies at every start; worker 1 starts well

    monkeypatch.setattr(supervisor, "_spawn", spawn)
    supervisor.workers = [Dead(), Alive()]
    for _ in range(4000):  # 2,000 s of the supervisor's loop, every half second
        supervisor._restart_dead()
        clock[0] += 0.5
    starts = [at for index, at in spawned if index == 0]
    pauses = [b - a for a, b in zip([0.0, *starts], starts, strict=False)]
    assert pauses[:7] == [1.0, 2.5, 4.5, 8.5, 16.5, 32.5, 60.5]  # 1, 2, 4... s after each death (half-second ticks)
    assert set(pauses[7:]) == {60.5} and len(starts) > 35  # at most a minute apart, and still tried at the end
    assert all(index == 0 for index, _ in spawned)  # the healthy worker is left alone

    clock[0] += 1000  # worker 0 now runs long before it dies again: its next pause is the shortest again
    supervisor._started[0] = clock[0] - 600
    supervisor.workers[0] = Dead()
    supervisor._due.pop(0, None)
    supervisor._restart_dead()
    assert supervisor._pause[0] == 1.0


def test_a_front_end_failing_to_stop_does_not_skip_the_pipeline_s_close(tmp_path):
    """SFTP's stop timed out (a settle waiting for the write turn): the gateway's close (the pipeline's last
    commits, the outbox's last events) and the database's were skipped, their threads killed with the process."""
    import asyncio

    from gga.serve import Runtime

    closed: list[str] = []

    class Stuck:
        def stop(self) -> None:
            raise TimeoutError("the SFTP loop did not stop in 30 s")

    runtime = Runtime(Settings(data_dir=tmp_path))
    runtime.sftp = Stuck()  # type: ignore[assignment]
    runtime.gateway = types.SimpleNamespace(close=lambda: closed.append("gateway"))  # type: ignore[assignment]
    runtime.services = types.SimpleNamespace(  # type: ignore[assignment]
        db=types.SimpleNamespace(dispose=lambda: closed.append("database")))
    try:
        asyncio.run(runtime.stop())
    except TimeoutError as exc:
        assert "did not stop" in str(exc)  # the first failure is still told
    else:
        raise AssertionError("the failure was swallowed")
    assert closed == ["gateway", "database"]


def test_a_stop_while_the_supervisor_waits_for_another_process_s_migration_stops_it(tmp_path):
    """The parent waits for the migration lock (a `gga db upgrade` or another instance running): SIGTERM was only
    noted, the wait went on, and `systemctl stop` ended in SIGKILL. Now the stop's own action applies until the
    workers are about to start."""
    import fcntl
    import os
    import signal
    import subprocess
    import sys

    from tests.gga.test_crash import _free_ports

    sftp, ftp, http, low = _free_ports(4)
    env = {**os.environ, "GGA_DATA_DIR": str(tmp_path), "GGA_SFTP_BIND": f"127.0.0.1:{sftp}",
           "GGA_FTP_BIND": f"127.0.0.1:{ftp}", "GGA_HTTP_BIND": f"127.0.0.1:{http}",
           "GGA_FTP_PASSIVE_PORTS": f"{low}-{low + 9}"}
    env.pop("GGA_DATABASE_URL", None)  # the SQLite lock file beside the database
    lock = os.open(tmp_path / "gga.db.migrate-lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)  # another process migrating
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "gga.cli", "serve", "--workers", "2"], env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not waits_on(process.pid, tmp_path / "gga.db.migrate-lock") and time.monotonic() < deadline:
            assert process.poll() is None
            time.sleep(0.05)
        assert waits_on(process.pid, tmp_path / "gga.db.migrate-lock")
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) in (0, -signal.SIGTERM)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        os.close(lock)
        log.close()


def waits_on(pid: int, path) -> bool:  # type: ignore[no-untyped-def]
    """The process has that file open (it is in the lock's wait: the lock is taken right after the open)."""
    import os

    folder = f"/proc/{pid}/fd"
    try:
        return any(os.readlink(f"{folder}/{fd}") == str(path) for fd in os.listdir(folder))
    except OSError:
        return False
