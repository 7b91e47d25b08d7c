"""The `gga` command as a newcomer runs it: a real process, real ports on loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests import factories

GGA = [sys.executable, "-m", "gga.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*GGA, *args], capture_output=True, text=True, timeout=60, env=env)


def cli_env(database_url: str, data_dir: Path) -> dict:
    return os.environ | {"GGA_DATABASE_URL": database_url, "GGA_DATA_DIR": str(data_dir)}


def test_token_is_refused_unless_the_dev_issuer_is_enabled(tmp_path):
    result = run("token", "--niss", "85073003328", "--data-dir", str(tmp_path))
    assert result.returncode == 2 and "not enabled" in result.stderr


def test_registry_import_is_idempotent(tmp_path, db, database_url):
    extract = tmp_path / "bce.json"
    number = factories.enterprise_number(31337)
    extract.write_text(json.dumps(factories.registry_extract({number: [factories.niss()]}, {})))
    env = cli_env(database_url, tmp_path)
    for _ in range(2):
        result = run("registry", "import", str(extract), env=env)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout.strip().splitlines()[-1]) == {"persons": 0, "enterprises": 1,
                                                                     "legal_functions": 1}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"enterprises": [{"number": "0403019262", "name": "x"}]}))
    refused = run("registry", "import", str(bad), env=env)
    assert refused.returncode == 2 and "INVALID_ENTERPRISE_NUMBER" in refused.stderr


@pytest.mark.slow
def test_serve_demo_starts_prints_endpoints_and_stops_cleanly(tmp_path, db, database_url):
    port = free_port()
    env = cli_env(database_url, tmp_path) | {"GGA_HTTP_BIND": f"127.0.0.1:{port}",
                                             "GGA_SFTP_BIND": f"127.0.0.1:{free_port()}",
                                             "GGA_FTP_BIND": f"127.0.0.1:{free_port()}"}
    proc = subprocess.Popen([*GGA, "serve", "--demo"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "gga: demo" in line or proc.poll() is not None:
                break
        assert any(f"127.0.0.1:{port}" in line for line in lines), "".join(lines)
        token = run("token", "--niss", "85073003328", env=env).stdout.strip()
        demo = json.loads((tmp_path / "demo" / "sender.json").read_text())
        response = httpx.get(f"http://127.0.0.1:{port}/api/v1/enterprises/{demo['enterprise_number']}",
                             headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert response.status_code == 200 and response.json()["registered"]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "gga: stopping" in out


def test_db_upgrade_on_a_fresh_data_folder(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "GGA_DATABASE_URL"} | {"GGA_DATA_DIR": str(tmp_path / "new")}
    result = run("db", "upgrade", env=env)
    assert result.returncode == 0, result.stderr
    assert "database at head" in result.stdout and (tmp_path / "new" / "gga.db").exists()


def test_bad_input_is_refused_in_one_line_with_exit_2_not_a_traceback(tmp_path):
    (tmp_path / "bad.json").write_text("{bad")
    for args, said in ((("registry", "import", str(tmp_path / "missing.json")), "not a readable JSON extract"),
                       (("registry", "import", str(tmp_path / "bad.json")), "not a readable JSON extract"),
                       (("serve", "--http-bind", "nonsense"), "http_bind: Value error, 'nonsense' is not host:port"),
                       (("serve", "--ftp-passive-ports", "9-x"), "ftp_passive_ports")):
        result = run(*args, "--data-dir", str(tmp_path))
        assert result.returncode == 2, (args, result.stderr)
        assert said in result.stderr and "Traceback" not in result.stderr, (args, result.stderr)


@pytest.mark.parametrize(("variable", "value"), [("GGA_RETENTION_RETURNS_DAYS", "-1"),
                                                 ("GGA_RETENTION_TRANSFER_LOG_DAYS", "0"),
                                                 ("GGA_RETENTION_EVERY_S", "0"), ("GGA_SESSION_CHECK_S", "0"),
                                                 ("GGA_GO_WAIT_HOURS", "-2")])
def test_a_count_or_interval_that_would_do_damage_is_refused_at_start(tmp_path, variable, value):
    """A retention of -1 day purged every return file not yet picked up and the whole transfer log at the first
    round; an interval of 0 ran retention in a busy loop. Now the start is refused, naming the setting."""
    result = run("serve", "--data-dir", str(tmp_path), env=os.environ | {variable: value})
    assert result.returncode == 2, result.stderr
    setting = variable.removeprefix("GGA_").lower()
    assert f"refused: {setting}: Input should be greater than" in result.stderr, result.stderr
    assert not (tmp_path / "gga.db").exists()  # refused before anything was touched
