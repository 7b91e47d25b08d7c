"""Benchmark (not a test): SFTP upload throughput of the gateway against OpenSSH's sshd, and GO-to-ACRF time.

    apt-get install -y openssh-server openssh-client     # sshd and sftp
    .venv/bin/python bench/sftp_upload.py [--size-mb 256] [--runs 5] [--acrf-mb 100]

Starts a private sshd (own config, loopback, free port) and `gga serve --demo` (free ports, temp data folder) side
by side, then uploads the same file with the same OpenSSH `sftp` client and cipher to both, alternating, `sync`
between runs. The gateway's figure includes its streaming SHA-256, the fsync and the database record before the
close is answered. Connection set-up is measured apart (a batch with only `pwd`) and subtracted. Then uploads a
signed FI of --acrf-mb, and times GO put -> ACRF present, as a ratio to the FI's upload time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from keys.cms import fs_file, sign_detached  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"port {port} never opened")


def start_sshd(work: Path, authorized: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    host_key = work / "sshd_host_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], check=True)
    Path("/run/sshd").mkdir(exist_ok=True)
    config = work / "sshd_config"
    config.write_text(f"""Port {port}
ListenAddress 127.0.0.1
HostKey {host_key}
AuthorizedKeysFile {authorized}
PubkeyAuthentication yes
PasswordAuthentication no
UsePAM no
StrictModes no
PermitRootLogin yes
PidFile {work / 'sshd.pid'}
Subsystem sftp internal-sftp
MaxStartups 300:30:400
MaxSessions 200
""")
    proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-f", str(config), "-E", str(work / "sshd.log")])
    wait_port(port)
    return proc, port


def start_gateway(work: Path) -> tuple[subprocess.Popen, dict, dict]:
    ports = {"http": free_port(), "sftp": free_port(), "ftp": free_port()}
    env = os.environ | {"GGA_DATA_DIR": str(work / "gga"), "GGA_HTTP_BIND": f"127.0.0.1:{ports['http']}",
                        "GGA_SFTP_BIND": f"127.0.0.1:{ports['sftp']}", "GGA_FTP_BIND": f"127.0.0.1:{ports['ftp']}"}
    env.pop("GGA_DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "gga.cli", "serve", "--demo"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "gga: demo" in line:
            break
        if proc.poll() is not None:
            raise RuntimeError("gateway did not start")
    # keep draining its log so it never blocks on a full pipe
    import threading

    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    return proc, ports, json.loads((work / "gga" / "demo" / "sender.json").read_text())


def sftp(port: int, user: str, key: str, batch: str, cipher: str) -> float:
    start = time.perf_counter()
    subprocess.run(["sftp", "-q", "-b", "-", "-c", cipher, "-i", key, "-P", str(port), "-o", "BatchMode=yes",
                    "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o",
                    "IdentitiesOnly=yes", f"{user}@127.0.0.1"], input=batch, text=True, check=True,
                   capture_output=True)
    return time.perf_counter() - start


def random_file(path: Path, size_mb: int) -> None:
    with path.open("wb") as f:
        for _ in range(size_mb):
            f.write(os.urandom(1 << 20))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=256)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--acrf-mb", type=int, default=100)
    parser.add_argument("--ciphers", default="aes128-gcm@openssh.com,chacha20-poly1305@openssh.com")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gga-bench-"))
    gateway, _ports, demo = start_gateway(work)
    key = demo["ssh_private_key"]
    sshd, sshd_port = start_sshd(work, Path(key + ".pub"))
    try:
        run(args, work, demo, sshd_port, key)
    finally:
        for proc in (sshd, gateway):
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
        shutil.rmtree(work, ignore_errors=True)  # its 256 MiB files and both servers' copies


def run(args, work: Path, demo: dict, sshd_port: int, key: str) -> None:  # type: ignore[no-untyped-def]
    user, number, gw_port = demo["technical_user"], demo["sender_number"], _sftp_port(work)
    upload = work / "upload.bin"
    random_file(upload, args.size_mb)
    sshd_target = work / "sshd-target"
    sshd_target.mkdir()
    home = work / "gga" / "spool" / "mailboxes" / number / "SFTP"
    day = datetime.now(UTC).strftime("%Y%m%d")
    seq = iter(range(1, 10_000))
    print(f"file {args.size_mb} MiB, {args.runs} paired runs per cipher, OpenSSH sftp client for both")
    print(f"{'cipher':32} {'sshd MB/s':>10} {'gateway MB/s':>13} {'ratio':>7}")
    for cipher in args.ciphers.split(","):
        base_sshd = statistics.median(sftp(sshd_port, "root", key, "pwd\n", cipher) for _ in range(3))
        base_gw = statistics.median(sftp(gw_port, user, key, "pwd\n", cipher) for _ in range(3))
        ratios, sshd_rates, gw_rates = [], [], []
        for _ in range(args.runs):
            subprocess.run(["sync"], check=True)
            t = sftp(sshd_port, "root", key, f"put {upload} {sshd_target}/target\n", cipher) - base_sshd
            (sshd_target / "target").unlink()
            subprocess.run(["sync"], check=True)
            name = f"FI.DMFA.{number}.{day}.{next(seq):05d}.T.1.1"
            g = sftp(gw_port, user, key, f"put {upload} /INTEST/{name}\n", cipher) - base_gw
            (home / "INTEST" / name).unlink()
            size = args.size_mb * 1.048576
            sshd_rates.append(size / t)
            gw_rates.append(size / g)
            ratios.append(t / g)
        print(f"{cipher:32} {statistics.median(sshd_rates):10.0f} {statistics.median(gw_rates):13.0f} "
              f"{statistics.median(ratios):7.2f}")
    go_to_acrf(args, work, demo, gw_port, key, home, day, next(seq))


def _sftp_port(work: Path) -> int:
    readme = (work / "gga" / "demo" / "README.txt").read_text()
    return int(readme.split("-P ")[1].split()[0])


def go_to_acrf(args, work: Path, demo: dict, port: int, key: str, home: Path, day: str, n: int) -> None:  # type: ignore[no-untyped-def]
    fi_path = work / "acrf-fi.bin"
    random_file(fi_path, args.acrf_mb)
    content = fi_path.read_bytes()
    cert = x509.load_pem_x509_certificate(Path(demo["certificate"]).read_bytes())
    cert_key = serialization.load_pem_private_key(Path(demo["certificate_key"]).read_bytes(), None)
    base = f"DMFA.{demo['sender_number']}.{day}.{n:05d}.T"
    fs_path = work / f"FS.{base}.1.1"
    fs_path.write_bytes(fs_file(sign_detached(content, cert, cert_key)))  # type: ignore[arg-type]
    go_path = work / f"GO.{base}.1"
    go_path.write_bytes(b"")
    cipher = "aes128-gcm@openssh.com"
    baseline = statistics.median(sftp(port, demo["technical_user"], key, "pwd\n", cipher) for _ in range(3))
    subprocess.run(["sync"], check=True)
    upload = sftp(port, demo["technical_user"], key, f"put {fi_path} /INTEST/FI.{base}.1.1\nput {fs_path} /INTEST/\n",
                  cipher) - baseline
    sftp(port, demo["technical_user"], key, f"put {go_path} /INTEST/\n", cipher)
    go_done = time.perf_counter()
    deadline = go_done + 60
    acrf = None
    while time.perf_counter() < deadline:
        found = list((home / "OUTTEST").glob("GO.ACRF.*"))
        if found:
            acrf = time.perf_counter() - go_done
            break
        time.sleep(0.005)
    assert acrf is not None, "no ACRF"
    result = next((home / "OUTTEST").glob("FO.ACRF.*")).read_text()
    assert "<ResultCode>1</ResultCode>" in result, result
    print(f"GO -> ACRF for a signed {args.acrf_mb} MiB FI: {acrf * 1000:.0f} ms; FI upload {upload * 1000:.0f} ms; "
          f"ratio {acrf / upload:.3f} (accepted)")


if __name__ == "__main__":
    main()
