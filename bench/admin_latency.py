"""Benchmark (not a test): admin-API latency with the server idle, then while 4 SFTP uploads of 32 MiB run.

    apt-get install -y openssh-client                      # the sftp client
    .venv/bin/python -m bench.admin_latency [--calls 600] [--concurrency 4] [--uploads 4] [--upload-mb 32]

    # another checkout of the same repository (same CLI contract), with its own venv:
    cd /tmp/baseline && .venv/bin/python /work/main/bench/admin_latency.py

The repository measured is the current directory when it holds `gga/cli.py`, else the one this file is in. Starts
`gga serve --demo` of that repository (its interpreter, temp data folder, free loopback ports), mints a token for the
demo GAP with `gga token`, and calls a mix of cheap authenticated GETs (enterprise, users page, sender) from
--concurrency threads, each with its own keep-alive `httpx` client, one call after the other (closed loop). Each
call's latency is taken with time.perf_counter in this process, so it includes the client's own work.
Phase (a): server idle. Phase (b): --uploads OpenSSH `sftp -b` clients each `put` a --upload-mb random file into
/INTEST under a fresh FI name, over and over, from before the first call until the last call is answered; the
uploads' MB/s and how many uploads were running when each call started are printed beside the latencies.
Also prints, from the same run, the disk's write+fsync throughput (in the data folder) and SHA-256 on one core, and
the CPU cores each phase kept busy (whole machine, server process, this client, sftp clients, anything else: the
machine may be shared). Goal (issue): p99 < 50 ms during uploads. Everything is bounded by --timeout (exit 2 if it
cut the run); the server is always stopped. Exit 1 if a call or every upload failed, 3 if the server did not start.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import itertools
import json
import math
import os
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx


def _repo_root() -> Path:
    cwd = Path.cwd().resolve()
    return cwd if (cwd / "gga" / "cli.py").is_file() else Path(__file__).resolve().parents[1]


ROOT = _repo_root()
sys.path.insert(0, str(ROOT))

from bench.sftp_upload import free_port, random_file, wait_port  # noqa: E402

SEQ_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


# ---------------------------------------------------------------------------------------------------- limits
def disk_fsync_mb_s(folder: Path, size_mb: int) -> float:
    """Write size_mb MiB in 1 MiB blocks and fsync once (as `dd bs=1M conv=fsync`); MB/s (10^6 bytes)."""
    path = folder / "fsync-probe.bin"
    block = os.urandom(1 << 20)
    subprocess.run(["sync"], check=True, timeout=120)
    start = time.perf_counter()
    with path.open("wb") as f:
        for _ in range(size_mb):
            f.write(block)
        f.flush()
        os.fsync(f.fileno())
    elapsed = time.perf_counter() - start
    path.unlink()
    return size_mb * 1.048576 / elapsed


def sha256_mb_s(size_mb: int) -> float:
    block = os.urandom(1 << 20)
    digest = hashlib.sha256()
    start = time.perf_counter()
    for _ in range(size_mb):
        digest.update(block)
    digest.hexdigest()
    return size_mb * 1.048576 / (time.perf_counter() - start)


def process_cpu_s(pid: int) -> tuple[float, float]:
    """A process's user and system CPU seconds so far (/proc/PID/stat's utime and stime)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


class CpuMeter:
    """CPU cores kept busy over a phase: the whole machine (/proc/stat), the server (/proc/PID/stat), this bench
    process (the HTTP client) and its finished child processes (the sftp clients; approximate: a child counts when
    it is reaped), and the rest of the machine."""

    def __init__(self, pid: int):
        self.pid = pid
        self.tick = os.sysconf("SC_CLK_TCK")
        self.begin = self._sample()

    def _sample(self) -> tuple[float, ...]:
        me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
            busy = (sum(fields[:8]) - fields[3] - fields[4]) / self.tick  # minus idle and iowait; no guest
            server = sum(process_cpu_s(self.pid))
        except (OSError, ValueError, IndexError):
            busy = server = math.nan
        return (time.perf_counter(), busy, server, me.ru_utime + me.ru_stime,
                children.ru_utime + children.ru_stime)

    def cores(self) -> dict[str, float]:
        now = self._sample()
        elapsed = now[0] - self.begin[0]
        machine, server, bench, sftp = ((b - a) / elapsed for a, b in zip(self.begin[1:], now[1:], strict=True))
        return {"machine": machine, "server": server, "bench": bench, "sftp": sftp,
                "other": machine - server - bench - sftp}


# ---------------------------------------------------------------------------------------------------- server
def free_port_range(count: int) -> str:
    """A range of `count` consecutive loopback ports free right now (FTP passive ports)."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(40000, 60000 - count)
        socks = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return f"{base}-{base + count - 1}"
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port range")


@dataclass
class Server:
    proc: subprocess.Popen
    ports: dict[str, int]
    data: Path
    log: Path
    demo: dict = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return server_env(self.data, self.ports)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def server_env(data: Path, ports: dict[str, int]) -> dict[str, str]:
    env = os.environ | {"GGA_DATA_DIR": str(data), "GGA_HTTP_BIND": f"127.0.0.1:{ports['http']}",
                        "GGA_SFTP_BIND": f"127.0.0.1:{ports['sftp']}", "GGA_FTP_BIND": f"127.0.0.1:{ports['ftp']}",
                        "GGA_FTP_PASSIVE_PORTS": str(ports["passive"])}
    env.pop("GGA_DATABASE_URL", None)
    return env


def start_server(work: Path, timeout: float) -> Server:
    """`gga serve --demo` as bench/sftp_upload.py's start_gateway does, but of ROOT's checkout, with its log in a
    file (to show it when start-up fails), a start-up deadline and its own FTP passive ports."""
    ports: dict = {"http": free_port(), "sftp": free_port(), "ftp": free_port(), "passive": free_port_range(10)}
    data, log = work / "gga", work / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gga.cli", "serve", "--demo"], env=server_env(data, ports),
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = Server(proc, ports, data, log)
    deadline = time.monotonic() + timeout
    while "gga: demo" not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            server.stop()
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
            raise RuntimeError(f"`gga serve --demo` did not start (exit code {proc.returncode}); its log ends:\n"
                               f"{tail}")
        time.sleep(0.05)
    wait_port(ports["http"], 10)
    wait_port(ports["sftp"], 10)
    server.demo = json.loads((data / "demo" / "sender.json").read_text())
    return server


def mint_token(server: Server) -> str:
    niss = server.demo.get("gap_niss", "85073003328")
    done = subprocess.run([sys.executable, "-m", "gga.cli", "token", "--niss", niss], env=server.env(), cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"`gga token --niss {niss}` failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout.strip().splitlines()[-1]


# ---------------------------------------------------------------------------------------------------- calls
@dataclass
class Call:
    start: float
    seconds: float
    path: str
    status: int
    error: str = ""


def endpoints(demo: dict) -> list[str]:
    enterprise, domain = demo.get("enterprise_number", "0403019261"), demo.get("domain_id", 1)
    return [f"/api/v1/enterprises/{enterprise}", f"/api/v1/domains/{domain}/users?page=1",
            f"/api/v1/domains/{domain}/sender"]


def run_calls(base_url: str, token: str, paths: list[str], calls: int, concurrency: int, deadline: float,
              abort: threading.Event) -> tuple[list[Call], float]:
    """`calls` GETs cycling through `paths`, from `concurrency` threads each calling in a closed loop."""
    counter, lock = itertools.count(), threading.Lock()
    ready = threading.Barrier(concurrency + 1)
    results: list[Call] = []

    def worker() -> None:
        with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10.0) as client:
            client.get(paths[0])  # open the keep-alive connection before the clock starts
            ready.wait(30)
            mine = []
            while not abort.is_set() and time.monotonic() < deadline:
                with lock:
                    i = next(counter)
                if i >= calls:
                    break
                path = paths[i % len(paths)]
                start = time.perf_counter()
                try:
                    response = client.get(path)
                    response.read()
                    seconds = time.perf_counter() - start
                    error = "" if response.status_code == 200 else response.text[:300]
                    mine.append(Call(start, seconds, path, response.status_code, error))
                except httpx.HTTPError as exc:
                    mine.append(Call(start, time.perf_counter() - start, path, 0, repr(exc)))
            with lock:
                results.extend(mine)

    with ThreadPoolExecutor(concurrency) as pool:
        futures = [pool.submit(worker) for _ in range(concurrency)]
        ready.wait(30)
        start = time.perf_counter()
        for f in futures:
            f.result()
        wall = time.perf_counter() - start
    return results, wall


# ---------------------------------------------------------------------------------------------------- uploads
@dataclass
class Upload:
    start: float
    end: float
    ok: bool
    name: str
    error: str = ""


class Uploaders:
    """`count` threads, each running one OpenSSH `sftp -b` client at a time that puts `source` under a fresh FI
    name, until stop() (the put under way is let finish) or the deadline (it is killed)."""

    def __init__(self, server: Server, source: Path, count: int, deadline: float, abort: threading.Event):
        self.server, self.source, self.count, self.deadline, self.abort = server, source, count, deadline, abort
        self.demo = server.demo
        self.home = server.data / "spool" / "mailboxes" / self.demo["sender_number"] / "SFTP" / "INTEST"
        self.day = datetime.now(UTC).strftime("%Y%m%d")
        self.seq = itertools.count(1)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.started = threading.Semaphore(0)
        self.uploads: list[Upload] = []
        self.procs: set[subprocess.Popen] = set()
        self.threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(count)]

    def _name(self) -> str:
        with self.lock:
            n = next(self.seq)
        chars = ""
        for _ in range(5):
            n, digit = divmod(n, len(SEQ_ALPHABET))
            chars = SEQ_ALPHABET[digit] + chars
        return f"FI.DMFA.{self.demo['sender_number']}.{self.day}.{chars}.T.1.1"

    def _loop(self) -> None:
        first = True
        while not self.stopping.is_set() and not self.abort.is_set() and time.monotonic() < self.deadline:
            name = self._name()
            cmd = ["sftp", "-q", "-b", "-", "-c", "aes128-gcm@openssh.com", "-i", self.demo["ssh_private_key"],
                   "-P", str(self.server.ports["sftp"]), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                   "-o", "UserKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR",
                   f"{self.demo['technical_user']}@127.0.0.1"]
            start = time.perf_counter()
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)
            with self.lock:
                self.procs.add(proc)
            if first:
                self.started.release()
                first = False
            try:
                _out, err = proc.communicate(f"put {self.source} /INTEST/{name}\n",
                                             timeout=max(1.0, self.deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                _out, err = proc.communicate()
            end = time.perf_counter()
            with self.lock:
                self.procs.discard(proc)
                self.uploads.append(Upload(start, end, proc.returncode == 0, name, (err or "").strip()[:300]))
            (self.home / name).unlink(missing_ok=True)  # bound the disk used; the gateway has recorded it
        if first:
            self.started.release()

    def start(self) -> None:
        for t in self.threads:
            t.start()
        for _ in self.threads:
            self.started.acquire(timeout=30)

    def stop(self, grace: float) -> None:
        self.stopping.set()
        end = time.monotonic() + grace
        for t in self.threads:
            t.join(max(0.0, end - time.monotonic()))
        self.kill()
        for t in self.threads:
            t.join(5)

    def kill(self) -> None:
        with self.lock:
            for proc in list(self.procs):
                with contextlib.suppress(OSError):
                    proc.kill()

    def running_at(self, t: float) -> int:
        return sum(1 for u in self.uploads if u.start <= t < u.end)


# ---------------------------------------------------------------------------------------------------- report
def pct(values: list[float], p: int) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def row(label: str, calls: list[Call], concurrency: int, wall: float) -> str:
    ms = [c.seconds * 1000 for c in calls]
    if not ms:
        return f"{label:22} {0:6d} {concurrency:5d}  (no calls)"
    return (f"{label:22} {len(calls):6d} {concurrency:5d} {pct(ms, 50):8.1f} {pct(ms, 90):8.1f} {pct(ms, 99):8.1f} "
            f"{max(ms):8.1f} {len(calls) / wall:8.0f}")


HEADER = (f"{'phase':22} {'calls':>6} {'conc':>5} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} "
          f"{'calls/s':>8}")
CPU_KEYS = ("machine", "server", "bench", "sftp", "other")


def cpu_row(label: str, cpu: dict[str, float], load: float) -> str:
    return f"{label:22} " + " ".join(f"{cpu[k]:8.2f}" for k in CPU_KEYS) + f" {load:9.2f}"


def report_errors(label: str, calls: list[Call]) -> int:
    bad = [c for c in calls if c.status != 200]
    if bad:
        print(f"  {label}: {len(bad)} of {len(calls)} calls failed; first: {bad[0].status} {bad[0].path} "
              f"{bad[0].error}")
    return len(bad)


def git_head(root: Path) -> str:
    with contextlib.suppress(Exception):
        done = subprocess.run(["git", "-C", str(root), "log", "-1", "--format=%h %s"], capture_output=True,
                              text=True, timeout=10)
        return done.stdout.strip()[:90]
    return "?"


# ---------------------------------------------------------------------------------------------------- main
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=600, help="measured calls per phase (at least 500)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--uploads", type=int, default=4, help="parallel SFTP uploads in phase (b)")
    parser.add_argument("--upload-mb", type=int, default=32)
    parser.add_argument("--probe-mb", type=int, default=256, help="size of the disk and SHA-256 probes")
    parser.add_argument("--timeout", type=float, default=300, help="global bound in seconds")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (server log, data)")
    args = parser.parse_args()
    if args.calls < 500:
        parser.error("--calls must be at least 500")
    if shutil.which("sftp") is None:
        parser.error("the OpenSSH sftp client is missing (apt-get install -y openssh-client)")

    t0 = time.monotonic()
    deadline = t0 + args.timeout
    abort = threading.Event()
    work = Path(tempfile.mkdtemp(prefix="gga-bench-admin-"))
    server: Server | None = None
    uploaders: Uploaders | None = None

    def watchdog() -> None:
        abort.set()
        if uploaders is not None:
            uploaders.kill()
        print(f"!! global timeout ({args.timeout:.0f} s) reached: stopping", flush=True)

    timer = threading.Timer(args.timeout, watchdog)
    timer.daemon = True
    timer.start()
    try:
        print(f"repository {ROOT} ({git_head(ROOT)})")
        print(f"python {sys.executable}; {os.cpu_count()} CPUs; load avg {os.getloadavg()[0]:.2f}")
        (work / "gga").mkdir()
        disk = disk_fsync_mb_s(work / "gga", args.probe_mb)
        sha = sha256_mb_s(args.probe_mb)
        print(f"limits: disk write+fsync {disk:.0f} MB/s ({args.probe_mb} MiB in the data folder's file system); "
              f"SHA-256 one core {sha:.0f} MB/s")

        server = start_server(work, min(120.0, deadline - time.monotonic()))
        token = mint_token(server)
        base_url = f"http://127.0.0.1:{server.ports['http']}"
        paths = endpoints(server.demo)
        print(f"server up in {time.monotonic() - t0:.1f} s; calls cycle through {', '.join(paths)}")
        source = work / "upload.bin"
        random_file(source, args.upload_mb)

        warm, _ = run_calls(base_url, token, paths, 60, args.concurrency, deadline, abort)  # imports, caches
        failed = report_errors("warm-up", warm)
        if failed == len(warm):
            raise RuntimeError("every warm-up call failed")

        meter = CpuMeter(server.proc.pid)
        idle, idle_wall = run_calls(base_url, token, paths, args.calls, args.concurrency, deadline, abort)
        idle_cpu = meter.cores()
        idle_load = os.getloadavg()[0]
        if abort.is_set():
            print(HEADER)
            print(row("(a) idle", idle, args.concurrency, idle_wall))
            print(f"!! incomplete run (global timeout {args.timeout:.0f} s): phase (b) not run")
            return 2

        uploaders = Uploaders(server, source, args.uploads, deadline, abort)
        up_start = time.perf_counter()
        uploaders.start()
        time.sleep(0.5)  # past the SSH handshakes: the data is flowing
        meter = CpuMeter(server.proc.pid)
        busy, busy_wall = run_calls(base_url, token, paths, args.calls, args.concurrency, deadline, abort)
        busy_cpu = meter.cores()
        busy_load = os.getloadavg()[0]
        calls_end = time.perf_counter()
        uploaders.stop(grace=max(1.0, min(120.0, deadline - time.monotonic())))
        ups = uploaders.uploads
        done = [u for u in ups if u.ok]
        up_wall = max((u.end for u in ups), default=calls_end) - up_start

        print()
        print(HEADER)
        label_b = f"(b) {args.uploads} x SFTP {args.upload_mb} MiB"
        print(row("(a) idle", idle, args.concurrency, idle_wall))
        print(row(label_b, busy, args.concurrency, busy_wall))
        print()
        print(f"CPU cores busy during the phase ({os.cpu_count()} CPUs; sftp = the sftp clients, approximate; other = "
              f"the rest of the machine):")
        print(f"{'phase':22} " + " ".join(f"{k:>8}" for k in CPU_KEYS) + f" {'load avg':>9}")
        print(cpu_row("(a) idle", idle_cpu, idle_load))
        print(cpu_row(label_b, busy_cpu, busy_load))
        per_call = idle_cpu["server"] * idle_wall / max(1, len(idle)) * 1000
        print(f"server CPU per call in (a): {per_call:.1f} ms (a closed loop of {args.concurrency} callers on one "
              f"busy core waits about {args.concurrency} x that)")
        print()
        print("per call, p50 / p99 ms:")
        for path in paths:
            a = [c.seconds * 1000 for c in idle if c.path == path]
            b = [c.seconds * 1000 for c in busy if c.path == path]
            if a and b:
                print(f"  {path:40} idle {pct(a, 50):6.1f} / {pct(a, 99):6.1f}   uploads {pct(b, 50):6.1f} / "
                      f"{pct(b, 99):6.1f}")
        running = [uploaders.running_at(c.start) for c in busy]
        mb = len(done) * args.upload_mb * 1.048576
        rate = mb / up_wall if up_wall > 0 else 0.0
        print()
        print(f"uploads: {len(done)} x {args.upload_mb} MiB done ({len(ups) - len(done)} failed or cut) in "
              f"{up_wall:.1f} s, {args.uploads} in parallel: {rate:.0f} MB/s together = {rate / disk:.2f} of the "
              f"disk's write+fsync, {rate / sha:.2f} of one core's SHA-256")
        if running:
            print(f"sftp sessions running when a call of (b) started: min {min(running)}, mean "
                  f"{statistics.fmean(running):.1f} (of {args.uploads}); calls with none: "
                  f"{sum(1 for r in running if r == 0)}")
        bad = [u for u in ups if not u.ok and u.end <= calls_end]
        if bad:
            print(f"  {len(bad)} uploads failed during the calls; first: {bad[0].name}: {bad[0].error}")
        errors = report_errors("(a)", idle) + report_errors("(b)", busy)
        p99 = pct([c.seconds * 1000 for c in busy], 99) if busy else math.inf
        print(f"goal p99 < 50 ms during uploads: {'met' if p99 < 50 else 'NOT met'} ({p99:.1f} ms)")
        if abort.is_set() or len(idle) < args.calls or len(busy) < args.calls:
            print("!! incomplete run (global timeout)")
            return 2
        return 1 if errors or not done else 0
    finally:
        timer.cancel()
        if uploaders is not None:
            uploaders.stopping.set()
            uploaders.kill()
        if server is not None:
            server.stop()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(3)
