"""`gga serve --workers 2`: two processes serve SFTP, FTPS and HTTP on the same ports (SFTP connections dealt by the
parent in turn, FTP and HTTP through SO_REUSEPORT). Concurrent sessions on both
complete their submissions with exactly one ACRF each, FTP passive data connections reach the worker holding the
control connection, /metrics adds up both workers, and SIGTERM to the parent stops them all."""

from __future__ import annotations

import asyncio
import ftplib
import io
import os
import re
import signal
import ssl
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncssh
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import func, select

from store.models import LiveSession, Submission
from tests.gateway.harness import SenderKit, build, seed_sender
from tests.gga.test_crash import _free_ports, _listening

pytestmark = pytest.mark.slow
MAX_CONNECTIONS = 40  # opened one by one until both workers hold some


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def start(env: dict[str, str], log: Path, http: int, sftp: int) -> subprocess.Popen:
    with log.open("ab") as out:
        process = subprocess.Popen([str(Path(sys.executable).parent / "gga"), "serve", "--workers", "2"], env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while "gga: http" not in log.read_text(errors="replace"):  # the parent announces once every worker is up
        assert process.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.1)
    assert _listening(http) and _listening(sftp)
    return process


def ftps_upload(port: int, kit: SenderKit, files: list[tuple[str, str, bytes]]) -> list[str]:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    ftp = ftplib.FTP_TLS(context=context)
    ftp.connect("127.0.0.1", port, timeout=30)
    try:
        ftp.auth()
        ftp.login(kit.technical_user, kit.password)
        ftp.prot_p()
        return [ftp.storbinary(f"STOR /{folder}/{name}", io.BytesIO(data)) for folder, name, data in files]
    finally:
        ftp.close()


def live_instances(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Live SFTP sessions per worker (its instance id)."""
    with db.session() as session:
        return dict(session.execute(select(LiveSession.instance, func.count()).group_by(LiveSession.instance)).all())


def test_two_workers_share_the_ports_and_each_submission_gets_one_acrf(services, db, data_dir, database_url,
                                                                       tmp_path):
    kit = seed_sender(db, services, tmp_path)
    sftp, ftp, http, low = _free_ports(4)
    env = {**os.environ, "GGA_DATABASE_URL": database_url, "GGA_DATA_DIR": str(data_dir), "GGA_DRAIN_S": "5",
           "GGA_SFTP_BIND": f"127.0.0.1:{sftp}", "GGA_FTP_BIND": f"127.0.0.1:{ftp}",
           "GGA_HTTP_BIND": f"127.0.0.1:{http}", "GGA_FTP_PASSIVE_PORTS": f"{low}-{low + 9}",
           "GGA_MAX_SESSIONS_PER_SENDER": str(MAX_CONNECTIONS + 10), "GGA_LOG_FORMAT": "json"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = start(env, tmp_path / "workers.log", http, sftp)
    workers = children(process.pid)  # read now: a parent killed below leaves its children to init
    try:
        assert len(workers) >= 2  # two workers (and multiprocessing's resource tracker)
        sftp_subs, served_by = asyncio.run(sftp_sessions(kit, sftp, db))
        # the parent deals the connections in turn: 6 sessions, 3 on each worker (the kernel's hash was 4:2, 5:1...)
        assert sorted(served_by.values()) == [3, 3], served_by
        ftp_subs = [build(kit, app="DIMN", content=b"flat", seq=f"{900 + i:05d}") for i in range(4)]
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda s: ftps_upload(ftp, kit, s.files), ftp_subs))
        assert all(a.startswith("226") for answer in answers for a in answer), answers
        total = len(sftp_subs) + len(ftp_subs)
        wait_decided(db, total)
        with db.session() as session:
            results = session.execute(select(Submission.go_name, Submission.status)).all()
        assert sorted(r.go_name for r in results) == sorted(s.go for s in [*sftp_subs, *ftp_subs])
        assert {r.status for r in results} == {"accepted"}
        home = data_dir / "spool" / "mailboxes" / kit.number
        assert len(list((home / "SFTP" / "OUTTEST").glob("GO.ACRF.*"))) == len(sftp_subs)  # DMFA: SFTP preferred
        assert len(list((home / "FTP" / "OUTTEST").glob("GO.ACRF.*"))) == len(ftp_subs)  # DIMN: FTP preferred
        uploads = sum(len(s.files) for s in [*sftp_subs, *ftp_subs])
        for _ in range(4):  # whichever worker answers, the figure is both workers' sum
            text = httpx.get(f"http://127.0.0.1:{http}/metrics", timeout=10).text
            counted = sum(float(v) for v in re.findall(r'^gga_uploads_total\{[^}]*result="ok"[^}]*\} (\S+)$', text,
                                                       re.M))
            assert counted == uploads
        process.send_signal(signal.SIGTERM)
        assert process.wait(90) == 0
        assert wait_gone(workers) == []
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        for pid in wait_gone(workers, timeout=10):  # the workers stop with their parent; never leave one behind
            os.kill(pid, signal.SIGKILL)


async def sftp_sessions(kit: SenderKit, port: int, db) -> tuple[list, dict[str, int]]:  # type: ignore[no-untyped-def]
    """SFTP connections opened one by one, kept open, until both workers hold some; then one submission on each,
    all at once. Returns the submissions and the live sessions per worker once all were open."""
    key = asyncssh.import_private_key(kit.ssh_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()))
    connections, served_by = [], {}
    try:
        for _ in range(MAX_CONNECTIONS):
            conn = await asyncssh.connect("127.0.0.1", port, username=kit.technical_user, client_keys=[key],
                                          known_hosts=None)
            connections.append(conn)
            deadline = time.monotonic() + 10  # a key login's session row is written just after the login completes
            while sum((served_by := await asyncio.to_thread(live_instances, db)).values()) < len(connections):
                assert time.monotonic() < deadline, served_by
                await asyncio.sleep(0.02)
            if len(served_by) == 2 and len(connections) >= 6:
                break
        subs = [build(kit, seq=f"{100 + i:05d}") for i in range(len(connections))]
        await asyncio.gather(*(send(conn, sub) for conn, sub in zip(connections, subs, strict=True)))
        return subs, served_by
    finally:
        for conn in connections:
            conn.close()
            await conn.wait_closed()


async def send(conn: asyncssh.SSHClientConnection, sub) -> None:  # type: ignore[no-untyped-def]
    async with conn.start_sftp_client() as client:
        for folder, name, data in sub.files:
            async with client.open(f"/{folder}/{name}", "wb") as f:
                await f.write(data)


def running(pid: int) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def wait_gone(pids: list[int], timeout: float = 15) -> list[int]:
    """The processes still running after ``timeout`` (multiprocessing's resource tracker ends just after the
    parent)."""
    deadline = time.monotonic() + timeout
    while (left := [pid for pid in pids if running(pid)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def wait_decided(db, count: int, timeout: float = 90) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.session() as session:
            done = session.scalar(select(func.count()).select_from(Submission).where(
                Submission.status.in_(("accepted", "rejected"))))
        if done >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} submissions decided within {timeout} s")


def test_instances_sharing_a_data_folder_keep_each_others_metrics(tmp_path, monkeypatch):
    """Every start emptied <data>/metrics: a second instance on the shared data folder wiped the first's counters
    (its workers went on writing into deleted files, its /metrics lost every series until its own restart)."""
    from gga.serve import Supervisor
    from kernel.settings import Settings
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "unset"))  # put back as it was afterwards
    first = Supervisor(Settings(data_dir=tmp_path, instance_id="host-a"), demo=False)
    first._metrics_folder()
    counters = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]) / "counter_1234.db"
    counters.write_bytes(b"first instance's counts")
    Supervisor(Settings(data_dir=tmp_path, instance_id="host-b"), demo=False)._metrics_folder()
    assert counters.read_bytes() == b"first instance's counts"
    assert Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]) != counters.parent
