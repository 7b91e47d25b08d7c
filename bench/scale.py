"""Benchmark (not a test): the gateway under the real load, paired with a private OpenSSH sshd in one run.

    apt-get install -y openssh-server openssh-client     # sshd and sftp; `mkdir -p /run/sshd`
    .venv/bin/python -m bench.scale [--runs 3] [--only small,parallel,logins,admin,idle] [--workers 1,2]
                                    [--postgres postgresql+psycopg://root@127.0.0.1:5432/postgres] [--work-dir DIR]

Figures, each beside the disk's write+fsync and SHA-256 limits measured in the same run:
- small: --small submissions (FI 1 KiB + FS + GO, signed with the demo certificate) over 4 parallel OpenSSH `sftp`
  sessions, timed until every ACRF is in the sender's return folders; sshd just stores the same files. SQLite and
  (with --postgres) PostgreSQL, with each --workers count. Ratio = sshd time / gateway time (above 1: faster).
- parallel: 8 parallel 32 MiB uploads, sshd against the gateway.
- logins: 8 parallel key logins (`sftp` with only `pwd`), logins per second.
- admin: admin-API p99 while 4 uploads run (bench/admin_latency.py's phase b).
- idle: 1,000 idle authenticated SFTP sessions (asyncssh clients in this process; limits raised for the run):
  summed RSS of every gateway process and a new OpenSSH client's 1 KiB upload time meanwhile.
Runs alternate sshd and gateway, `sync` before each, and the median of --runs pairs is printed. The machine may be
shared: the ratios are noisy, read the medians.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import admin_latency  # noqa: E402
from bench.admin_latency import SEQ_ALPHABET, disk_fsync_mb_s, free_port_range, process_cpu_s, sha256_mb_s  # noqa: E402
from bench.sftp_upload import free_port, random_file, start_sshd, wait_port  # noqa: E402

CIPHER = "aes128-gcm@openssh.com"
SSH_OPTS = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR"]


# ---------------------------------------------------------------------------------------------------- gateway
@dataclass
class Gateway:
    proc: subprocess.Popen
    ports: dict
    data: Path
    log: Path
    demo: dict = field(default_factory=dict)
    database: str | None = None

    @property
    def home(self) -> Path:
        return self.data / "spool" / "mailboxes" / self.demo["sender_number"]

    def pids(self) -> list[int]:
        """The parent and its worker processes."""
        found = [self.proc.pid]
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split():
                found.append(int(line))
        return found

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.database:
            drop_database(self.database)


def start_gateway(work: Path, workers: int, database: str | None, extra_env: dict | None = None,
                  timeout: float = 180) -> Gateway:
    ports = {"http": free_port(), "sftp": free_port(), "ftp": free_port(), "passive": free_port_range(20)}
    data, log = work / f"gga-{uuid.uuid4().hex[:6]}", work / f"server-{uuid.uuid4().hex[:6]}.log"
    env = os.environ | {"GGA_DATA_DIR": str(data), "GGA_HTTP_BIND": f"127.0.0.1:{ports['http']}",
                        "GGA_SFTP_BIND": f"127.0.0.1:{ports['sftp']}", "GGA_FTP_BIND": f"127.0.0.1:{ports['ftp']}",
                        "GGA_FTP_PASSIVE_PORTS": ports["passive"], "GGA_LOG_FORMAT": "json", **(extra_env or {})}
    env.pop("GGA_DATABASE_URL", None)
    if database:
        env["GGA_DATABASE_URL"] = database
    command = [sys.executable, "-m", "gga.cli", "serve", "--demo"]
    if workers != 1:
        command += ["--workers", str(workers)]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    gateway = Gateway(proc, ports, data, log, database=database)
    deadline = time.monotonic() + timeout
    while "gga: demo" not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            gateway.stop()
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
            raise RuntimeError(f"gga serve did not start ({proc.returncode}):\n{tail}")
        time.sleep(0.05)
    wait_port(ports["sftp"], 30)
    wait_port(ports["http"], 30)
    import json

    gateway.demo = json.loads((data / "demo" / "sender.json").read_text())
    return gateway


def fresh_database(admin_url: str) -> str:
    """A PostgreSQL database of its own for one gateway run (dropped at its stop)."""
    import psycopg

    name = f"gga_scale_{uuid.uuid4().hex[:8]}"
    plain = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with contextlib.suppress(Exception), psycopg.connect(
            base.replace("postgresql+psycopg://", "postgresql://") + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---------------------------------------------------------------------------------------------------- clients
def sftp_batch(port: int, user: str, key: str, batch: str) -> subprocess.Popen:
    return subprocess.Popen(["sftp", "-q", "-b", "-", "-c", CIPHER, "-i", key, "-P", str(port), *SSH_OPTS,
                             f"{user}@127.0.0.1"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def run_batches(port: int, user: str, key: str, batches: list[str], timeout: float = 300) -> float:
    """The batches in parallel sessions; seconds until every one ended (each must succeed)."""
    start = time.perf_counter()
    procs = [sftp_batch(port, user, key, b) for b in batches]
    # every client is given its batch at once: one communicate() after another would start each session only when
    # the one before it ended (until 2026-11-30 the "parallel" sessions ran one after another, for sshd and gga)
    with ThreadPoolExecutor(len(procs)) as pool:
        ended = list(pool.map(lambda pair: pair[0].communicate(pair[1], timeout=timeout),
                              zip(procs, batches, strict=True)))
    for proc, (_, err) in zip(procs, ended, strict=True):
        if proc.returncode != 0:
            raise RuntimeError(f"sftp failed ({proc.returncode}): {err.strip()[-500:]}")
    return time.perf_counter() - start


def seq(n: int) -> str:
    chars = ""
    for _ in range(5):
        n, digit = divmod(n, len(SEQ_ALPHABET))
        chars = SEQ_ALPHABET[digit] + chars
    return chars


# ---------------------------------------------------------------------------------------------------- figures
class Numbers:
    """Sequence numbers unique across the run (a base is never sent twice to one gateway)."""

    def __init__(self) -> None:
        self.n = int(time.time()) % 100_000 * 10

    def next(self) -> str:
        self.n += 1
        return seq(self.n)


def make_submissions(folder: Path, demo: dict, count: int, numbers: Numbers) -> list[list[Path]]:
    """`count` signed submissions (FI 1 KiB, its FS, the GO), each as the three local files in upload order."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from keys.cms import fs_file, sign_detached

    cert = x509.load_pem_x509_certificate(Path(demo["certificate"]).read_bytes())
    key = serialization.load_pem_private_key(Path(demo["certificate_key"]).read_bytes(), None)
    day = datetime.now(UTC).strftime("%Y%m%d")
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for _ in range(count):
        base = f"DMFA.{demo['sender_number']}.{day}.{numbers.next()}.T"
        # random bytes that never begin with "<": a file that does is sniffed as XML, and "<!" refused as a DTD
        # (XML_UNSAFE), which 1 in 65,536 random files did (seen once in 480)
        content = b"D" + os.urandom(1023)
        fi, fs, go = folder / f"FI.{base}.1.1", folder / f"FS.{base}.1.1", folder / f"GO.{base}.1"
        fi.write_bytes(content)
        fs.write_bytes(fs_file(sign_detached(content, cert, key)))  # type: ignore[arg-type]
        go.write_bytes(b"")
        out.append([fi, fs, go])
    return out


def split_batches(subs: list[list[Path]], sessions: int, target: str) -> list[str]:
    batches = ["" for _ in range(sessions)]
    for i, files in enumerate(subs):
        batches[i % sessions] += "".join(f"put {f} {target}/{f.name}\n" for f in files)
    return batches


def acrfs(home: Path) -> int:
    return sum(len(list((home / channel / "OUTTEST").glob("GO.ACRF.*"))) for channel in ("SFTP", "FTP", "WS")
               if (home / channel / "OUTTEST").is_dir())


def small_gateway(gw: Gateway, subs: list[list[Path]], sessions: int, timeout: float = 300) -> float:
    """Seconds from the first connection to the last ACRF."""
    before, cpu, clients = acrfs(gw.home), cpu_s(gw.pids()), children_cpu_s()
    start = time.perf_counter()
    run_batches(gw.ports["sftp"], gw.demo["technical_user"], gw.demo["ssh_private_key"],
                split_batches(subs, sessions, "/INTEST"), timeout)
    uploaded = time.perf_counter() - start
    done_then = acrfs(gw.home) - before
    deadline = time.monotonic() + timeout
    while acrfs(gw.home) - before < len(subs):
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {acrfs(gw.home) - before} of {len(subs)} ACRFs")
        time.sleep(0.005)
    used = cpu_s(gw.pids())
    # where the wall goes: the sessions' uploads, or the pipeline catching up after them
    print(f"   uploads done {uploaded:.2f} s ({done_then} ACRFs then), last ACRF {time.perf_counter() - start:.2f} s; "
          f"CPU: gateway user {used[0] - cpu[0]:.2f} s + system {used[1] - cpu[1]:.2f} s, OpenSSH clients "
          f"{children_cpu_s() - clients:.2f} s", flush=True)
    return time.perf_counter() - start


def small_sshd(port: int, key: str, target: Path, subs: list[list[Path]], sessions: int) -> float:
    target.mkdir(parents=True)
    clients = children_cpu_s()
    took = run_batches(port, "root", key, split_batches(subs, sessions, str(target)))
    print(f"   sshd {took:.2f} s; CPU: OpenSSH clients {children_cpu_s() - clients:.2f} s", flush=True)
    return took


def small_figure(args, work: Path, sshd_port: int, key: str, database: str | None, workers: int,
                 numbers: Numbers) -> dict:  # type: ignore[no-untyped-def]
    db = fresh_database(database) if database else None
    gw = start_gateway(work, workers, db)
    try:
        ratios, sshd_times, gw_times = [], [], []
        for run in range(args.runs):
            subs = make_submissions(work / f"subs-{run}-{workers}-{uuid.uuid4().hex[:6]}", gw.demo, args.small, numbers)
            subprocess.run(["sync"], check=True)
            s = small_sshd(sshd_port, key, work / f"sshd-{run}-{workers}-{uuid.uuid4().hex[:6]}", subs, 4)
            subprocess.run(["sync"], check=True)
            g = small_gateway(gw, subs, 4)
            sshd_times.append(s)
            gw_times.append(g)
            ratios.append(s / g)
            # nothing deleted until the end: on ext4 without a journal (this machine's disk) every file created
            # scans the inodes deleted in the last 30 s to 5 min, so deleting here would tax the next run's creates
        accepted = sum("<ResultCode>1</ResultCode>" in p.read_text(errors="replace")
                       for p in (gw.home / "SFTP" / "OUTTEST").glob("FO.ACRF.*"))
        for p in (gw.home / "SFTP" / "OUTTEST").glob("FO.ACRF.*"):  # a refusal is a finding: show why
            if "<ResultCode>1</ResultCode>" not in p.read_text(errors="replace"):
                print("   not accepted:", p.name, p.read_text(errors="replace")[:2000], flush=True)
    finally:
        gw.stop()
    return {"db": "postgresql" if database else "sqlite", "workers": workers, "sshd": sshd_times, "gga": gw_times,
            "ratios": ratios, "accepted": accepted, "total": args.small * args.runs}


def print_small(rows: list[dict], count: int) -> None:
    print(f"\nsmall signed submissions: {count} x (FI 1 KiB + FS + GO) over 4 sessions, to every ACRF")
    print(f"{'database':11} {'workers':>7} {'sshd s':>7} {'gga s':>7} {'subm/s':>7} {'ratio':>6}  runs (ratio)")
    for r in rows:
        s, g = statistics.median(r["sshd"]), statistics.median(r["gga"])
        runs = " ".join(f"{x:.2f}" for x in r["ratios"])
        print(f"{r['db']:11} {r['workers']:7} {s:7.2f} {g:7.2f} {count / g:7.0f} {statistics.median(r['ratios']):6.2f}"
              f"  {runs}  (accepted {r['accepted']}/{r['total']})")


def paired(runs: int, first, second) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    """`runs` alternating pairs, `sync` before each: the two lists of seconds."""
    a, b = [], []
    for _ in range(runs):
        subprocess.run(["sync"], check=True)
        a.append(first())
        subprocess.run(["sync"], check=True)
        b.append(second())
    return a, b


def parallel_figure(args, work: Path, sshd_port: int, key: str, workers: int, numbers: Numbers,
                    disk: float) -> str:  # type: ignore[no-untyped-def]
    """8 sessions each putting one 32 MiB file at once."""
    source = work / "parallel.bin"
    random_file(source, 32)
    gw = start_gateway(work, workers, None)
    try:
        day = datetime.now(UTC).strftime("%Y%m%d")
        target = work / "sshd-parallel"

        def sshd() -> float:
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir()
            return run_batches(sshd_port, "root", key, [f"put {source} {target}/f{i}\n" for i in range(8)])

        def gateway() -> float:
            names = [f"FI.DMFA.{gw.demo['sender_number']}.{day}.{numbers.next()}.T.1.1" for _ in range(8)]
            t = run_batches(gw.ports["sftp"], gw.demo["technical_user"], gw.demo["ssh_private_key"],
                            [f"put {source} /INTEST/{n}\n" for n in names])
            for n in names:
                (gw.home / "SFTP" / "INTEST" / n).unlink(missing_ok=True)
            return t

        s, g = paired(args.runs, sshd, gateway)
    finally:
        gw.stop()
    ratios = [a / b for a, b in zip(s, g, strict=True)]
    rate = 8 * 32 * 1.048576 / statistics.median(g)
    return (f"8 x 32 MiB in parallel   workers {workers}: sshd {statistics.median(s):.2f} s, gga "
            f"{statistics.median(g):.2f} s ({rate:.0f} MB/s = {rate / disk:.2f} of the disk's write+fsync), ratio "
            f"{statistics.median(ratios):.2f}  runs {' '.join(f'{r:.2f}' for r in ratios)}")


def logins_figure(args, work: Path, sshd_port: int, key: str, workers: int) -> str:  # type: ignore[no-untyped-def]
    """8 parallel clients, each logging in 5 times in a row (key auth, then `pwd`): logins per second."""
    gw = start_gateway(work, workers, None)
    try:
        def rounds(port: int, user: str, identity: str) -> float:
            start = time.perf_counter()
            for _ in range(5):
                run_batches(port, user, identity, ["pwd\n"] * 8)
            return time.perf_counter() - start

        s, g = paired(args.runs, lambda: rounds(sshd_port, "root", key),
                      lambda: rounds(gw.ports["sftp"], gw.demo["technical_user"], gw.demo["ssh_private_key"]))
    finally:
        gw.stop()
    ratios = [a / b for a, b in zip(s, g, strict=True)]
    return (f"logins, 8 parallel       workers {workers}: sshd {40 / statistics.median(s):.0f}/s, gga "
            f"{40 / statistics.median(g):.0f}/s, ratio {statistics.median(ratios):.2f}  runs "
            f"{' '.join(f'{r:.2f}' for r in ratios)}")


def admin_figure(args, work: Path, workers: int) -> str:  # type: ignore[no-untyped-def]
    """bench/admin_latency.py's phase (b): 600 admin-API calls from 4 callers while 4 SFTP uploads of 32 MiB run."""
    gw = start_gateway(work, workers, None)
    abort = threading.Event()
    uploaders = None
    try:
        server = admin_latency.Server(gw.proc, gw.ports, gw.data, gw.log, gw.demo)
        token = admin_latency.mint_token(server)
        base = f"http://127.0.0.1:{gw.ports['http']}"
        paths = admin_latency.endpoints(gw.demo)
        deadline = time.monotonic() + 600
        admin_latency.run_calls(base, token, paths, 60, 4, deadline, abort)
        source = work / "admin-upload.bin"
        random_file(source, 32)
        uploaders = admin_latency.Uploaders(server, source, 4, deadline, abort)
        uploaders.start()
        time.sleep(0.5)
        calls, _ = admin_latency.run_calls(base, token, paths, 600, 4, deadline, abort)
        uploaders.stop(grace=60)
    finally:
        if uploaders is not None:
            uploaders.kill()
        gw.stop()
    ms = [c.seconds * 1000 for c in calls if c.status == 200]
    return (f"admin API during 4 uploads workers {workers}: p50 {admin_latency.pct(ms, 50):.1f} ms, p99 "
            f"{admin_latency.pct(ms, 99):.1f} ms ({len(ms)} of {len(calls)} calls answered 200)")


def idle_figure(args, work: Path, workers: int) -> str:  # type: ignore[no-untyped-def]
    """--idle authenticated SFTP sessions held open (asyncssh clients here); the summed RSS of every gateway process
    and a new OpenSSH client's 1 KiB upload time meanwhile."""
    import asyncio

    import asyncssh

    limits = {"GGA_MAX_SESSIONS_PER_SENDER": str(args.idle + 100), "GGA_MAX_CONNECTIONS_PER_ADDRESS":
              str(args.idle + 100)}
    gw = start_gateway(work, workers, None, limits)
    try:
        key = asyncssh.read_private_key(gw.demo["ssh_private_key"])
        small = work / "idle-small.bin"
        small.write_bytes(os.urandom(1024))
        day = datetime.now(UTC).strftime("%Y%m%d")
        before = rss_mb(gw.pids())

        async def hold() -> tuple[int, float, float, float]:
            sem = asyncio.Semaphore(16)
            connections: list = []

            async def one() -> None:
                async with sem:
                    conn = await asyncssh.connect("127.0.0.1", gw.ports["sftp"], username=gw.demo["technical_user"],
                                                  client_keys=[key], known_hosts=None)
                    await conn.start_sftp_client()
                    connections.append(conn)

            started = time.perf_counter()
            results = await asyncio.gather(*(one() for _ in range(args.idle)), return_exceptions=True)
            opened = time.perf_counter() - started
            failed = [r for r in results if isinstance(r, Exception)]
            if failed:
                print(f"  {len(failed)} sessions failed; first: {failed[0]!r}")
            await asyncio.sleep(2)
            name = f"FI.DMFA.{gw.demo['sender_number']}.{day}.{seq(99999)}.T.1.1"
            upload = await asyncio.to_thread(run_batches, gw.ports["sftp"], gw.demo["technical_user"],
                                             gw.demo["ssh_private_key"], [f"put {small} /INTEST/{name}\n"])
            total = rss_mb(gw.pids())
            for conn in connections:
                conn.close()
            return len(connections), upload, total, opened

        held, upload, total, opened = asyncio.run(hold())
    finally:
        gw.stop()
    return (f"idle SFTP sessions       workers {workers}: {held} held (opened in {opened:.0f} s); RSS of all gateway "
            f"processes {total:.0f} MiB (before {before:.0f} MiB); a new client's 1 KiB upload {upload:.2f} s")


def small_file_ms(work: Path, count: int = 200) -> tuple[float, float]:
    """Median ms to create an empty file, and to write 1 KiB into a new file and fsync it, in the work folder. On
    ext4 without a journal (this machine kind's disk) creating a file scans the inodes freed in the last minutes
    near its folder: in a folder where many files were just deleted (a test run's temporary folders) a create costs
    up to 1 ms, elsewhere 0.03 ms. Every submission makes files, the gateway more than sshd: read the ratios beside
    this. The probe's files stay until the end (deleting them would tax the runs)."""
    folder = work / "small-file-probe"
    folder.mkdir()
    creates, writes = [], []
    for i in range(count):
        start = time.perf_counter()
        os.close(os.open(folder / f"c{i}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        creates.append(time.perf_counter() - start)
        start = time.perf_counter()
        fd = os.open(folder / f"w{i}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, b"D" * 1024)
            os.fsync(fd)
        finally:
            os.close(fd)
        writes.append(time.perf_counter() - start)
    return statistics.median(creates) * 1000, statistics.median(writes) * 1000


def cpu_s(pids: list[int]) -> tuple[float, float]:
    """User and system CPU seconds the processes used so far."""
    user = system = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            u, s = process_cpu_s(pid)
            user, system = user + u, system + s
    return user, system


def children_cpu_s() -> float:
    """CPU seconds of the bench's ended children (the OpenSSH clients)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--small", type=int, default=160)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--only", default="small,parallel,logins,admin,idle")
    parser.add_argument("--postgres", default=None, help="admin URL of a PostgreSQL server (a database per run)")
    parser.add_argument("--probe-mb", type=int, default=256)
    parser.add_argument("--idle", type=int, default=1000, help="idle SFTP sessions held for the RSS figure")
    parser.add_argument("--work-dir", default=None, help="where sshd's and the gateway's files go (default: the "
                        "system's temporary folder); both always share it")
    args = parser.parse_args()
    only = set(args.only.split(","))
    workers = [int(w) for w in args.workers.split(",")]
    if args.work_dir:
        Path(args.work_dir).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="gga-scale-", dir=args.work_dir))
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    numbers = Numbers()
    key_dir = work / "client"
    key_dir.mkdir()
    key = str(key_dir / "id_ed25519")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
    sshd, sshd_port = start_sshd(work, Path(key + ".pub"))
    try:
        disk, sha = disk_fsync_mb_s(work, args.probe_mb), sha256_mb_s(args.probe_mb)
        create_ms, small_ms = small_file_ms(work)
        print(f"limits: disk write+fsync {disk:.0f} MB/s; SHA-256 one core {sha:.0f} MB/s; "
              f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
        print(f"small files in {work.parent}: create {create_ms:.3f} ms, 1 KiB write+fsync {small_ms:.3f} ms "
              "(the gateway makes 8 files per submission, sshd 3)")
        if "small" in only:
            rows = []
            for database in [None, args.postgres] if args.postgres else [None]:
                for w in workers:
                    rows.append(small_figure(args, work, sshd_port, key, database, w, numbers))
                    print_small(rows[-1:], args.small)
            print_small(rows, args.small)
        print()
        for w in workers:
            if "parallel" in only:
                print(parallel_figure(args, work, sshd_port, key, w, numbers, disk), flush=True)
            if "logins" in only:
                print(logins_figure(args, work, sshd_port, key, w), flush=True)
            if "admin" in only:
                print(admin_figure(args, work, w), flush=True)
            if "idle" in only:
                print(idle_figure(args, work, w), flush=True)
        print(f"load average at the end {os.getloadavg()[0]:.1f} (the machine may be shared)")
    finally:
        sshd.send_signal(signal.SIGTERM)
        sshd.wait(30)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
