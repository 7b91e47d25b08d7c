"""Benchmark (not a test): FTP and FTPS upload throughput of the gateway against vsftpd.

    apt-get install -y vsftpd curl
    .venv/bin/python bench/ftp_upload.py [--size-mb 256] [--runs 5]

Starts a private vsftpd (own config, loopback, free port, anonymous uploads into a temp folder, TLS with an RSA
certificate) and `gga serve --demo` side by side, allows plain FTP for the demo sender (the "Router" case) through
the admin API, then uploads the same file with the same client (`curl -T`, `--ssl-reqd` for FTPS) to both,
alternating, `sync` between runs. The gateway's time includes its streaming SHA-256, the fsync and the database
record before the 226 is sent. Connection and login are timed apart (a directory listing) and subtracted, as in
bench/sftp_upload.py: vsftpd's anonymous login is free, the gateway's is an argon2 check. Prints MB/s and the
ratio (vsftpd time / gateway time) per mode.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.sftp_upload import free_port, random_file, start_gateway, wait_port  # noqa: E402
from keys.issuing import issue  # noqa: E402


def start_vsftpd(work: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    passive = free_port()
    root = work / "vsftpd-root"
    (root / "upload").mkdir(parents=True)
    os.chmod(root, 0o555)
    os.chmod(root / "upload", 0o777)  # vsftpd writes anonymous uploads as its ftp user
    Path("/var/run/vsftpd/empty").mkdir(parents=True, exist_ok=True)
    tls = issue("localhost")
    (work / "vsftpd.pem").write_bytes(tls.cert_pem() + tls.key_pem())
    config = work / "vsftpd.conf"
    config.write_text(f"""listen=YES
listen_address=127.0.0.1
listen_port={port}
anonymous_enable=YES
anon_root={root}
anon_upload_enable=YES
write_enable=YES
anon_umask=022
no_anon_password=YES
local_enable=NO
pasv_enable=YES
pasv_min_port={passive}
pasv_max_port={passive + 20}
seccomp_sandbox=NO
secure_chroot_dir=/var/run/vsftpd/empty
ssl_enable=YES
allow_anon_ssl=YES
force_anon_logins_ssl=NO
force_anon_data_ssl=NO
rsa_cert_file={work / 'vsftpd.pem'}
ssl_ciphers=HIGH
require_ssl_reuse=NO
xferlog_enable=NO
""")
    proc = subprocess.Popen(["/usr/sbin/vsftpd", str(config)])
    wait_port(port)
    return proc, port


def curl(url: str, path: Path, tls: bool) -> float:
    start = time.perf_counter()
    subprocess.run(["curl", "-sS", "-f", *(["--ssl-reqd", "-k"] if tls else []), "-T", str(path), url], check=True,
                   capture_output=True)
    return time.perf_counter() - start


def listing(url: str, tls: bool) -> float:
    start = time.perf_counter()
    subprocess.run(["curl", "-sS", "-f", *(["--ssl-reqd", "-k"] if tls else []), url], check=True,
                   capture_output=True)
    return time.perf_counter() - start


def allow_plain_ftp(work: Path, demo: dict, http_port: int) -> None:
    env = os.environ | {"GGA_DATA_DIR": str(work / "gga")}
    token = subprocess.run([sys.executable, "-m", "gga.cli", "token", "--niss", demo["gap_niss"]], env=env,
                           cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
    response = httpx.patch(f"http://127.0.0.1:{http_port}/api/v1/domains/{demo['domain_id']}/sender/channels/FTP",
                           headers={"Authorization": f"Bearer {token}"}, json={"plain_ftp": True}, timeout=30)
    response.raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=256)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gga-ftp-bench-"))
    os.chmod(work, 0o755)
    gateway, ports, demo = start_gateway(work)
    vsftpd, vs_port = start_vsftpd(work)
    try:
        allow_plain_ftp(work, demo, ports["http"])
        run(args, work, demo, ports["ftp"], vs_port)
    finally:
        for proc in (vsftpd, gateway):
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
        shutil.rmtree(work, ignore_errors=True)  # its 256 MiB files and both servers' copies


def run(args, work: Path, demo: dict, gw_port: int, vs_port: int) -> None:  # type: ignore[no-untyped-def]
    upload = work / "upload.bin"
    random_file(upload, args.size_mb)
    day = datetime.now(UTC).strftime("%Y%m%d")
    user, password, number = demo["technical_user"], demo["password"], demo["sender_number"]
    inbox = work / "gga" / "spool" / "mailboxes" / number / "FTP" / "INTEST"
    seq = iter(range(1, 100_000))
    size = args.size_mb * 1.048576
    print(f"file {args.size_mb} MiB, {args.runs} paired runs per mode, curl -T for both")
    print(f"{'mode':6} {'vsftpd MB/s':>12} {'gateway MB/s':>13} {'ratio':>7}")
    for tls in (False, True):
        ratios, vs_rates, gw_rates = [], [], []
        base_vs = statistics.median(listing(f"ftp://127.0.0.1:{vs_port}/upload/", tls) for _ in range(3))
        base_gw = statistics.median(listing(f"ftp://{user}:{password}@127.0.0.1:{gw_port}/INTEST/", tls)
                                    for _ in range(3))
        for _ in range(args.runs):
            subprocess.run(["sync"], check=True)
            v = curl(f"ftp://127.0.0.1:{vs_port}/upload/target.bin", upload, tls) - base_vs
            (work / "vsftpd-root" / "upload" / "target.bin").unlink()
            subprocess.run(["sync"], check=True)
            name = f"FI.DMFA.{number}.{day}.{next(seq):05d}.T.1.1"
            g = curl(f"ftp://{user}:{password}@127.0.0.1:{gw_port}/INTEST/{name}", upload, tls) - base_gw
            (inbox / name).unlink()
            vs_rates.append(size / v)
            gw_rates.append(size / g)
            ratios.append(v / g)
        print(f"{'FTPS' if tls else 'FTP':6} {statistics.median(vs_rates):12.0f} {statistics.median(gw_rates):13.0f} "
              f"{statistics.median(ratios):7.2f}")
    print("(a ratio above 1 means the gateway was faster; connection and login subtracted)")


if __name__ == "__main__":
    main()
