"""Operations (contract section 9): /healthz and /readyz, /metrics that move with real submissions, one JSON log
object per line (an access line per HTTP request, transfer events as objects), ``gga --version``."""

from __future__ import annotations

import asyncio
import ftplib
import io
import json
import os
import signal
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import asyncssh
import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from gateway.core.translog import TransferLog
from gga.serve import Runtime
from gga.wiring import http_app
from store.models import TransferEvent
from tests.gateway.conftest import harness, kit, limits  # noqa: F401
from tests.gateway.harness import _passive_ports, build, put
from tests.gateway.test_webservice import bearer, put_files
from tests.gga.test_crash import Instance, _free_ports

GGA = str(Path(sys.executable).parent / "gga")


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(metrics: dict, name: str, **labels: str) -> float:
    return metrics.get((name, frozenset(labels.items())), 0.0)


# -- health and readiness ---------------------------------------------------------------------------------------

def test_healthz_and_readyz_answer_without_a_token(client):
    assert client.get("/healthz").json() == {"status": "alive"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "checked": ["database", "migrations", "spool"]}


def test_readyz_names_an_unwritable_spool(services, data_dir):
    (data_dir / "spool").rmdir() if (data_dir / "spool").is_dir() else None
    (data_dir / "spool").write_text("a file where the spool folder should be")
    with TestClient(http_app(services, None)) as c:
        answer = c.get("/readyz")
    assert answer.status_code == 503
    assert list(answer.json()["not_ready"]) == ["spool"]


def test_readyz_names_a_listener_that_stopped_accepting(settings, db):
    local = settings.model_copy(update={"sftp_bind": "127.0.0.1:0", "ftp_bind": "127.0.0.1:0",
                                        "http_bind": "127.0.0.1:0", "ftp_passive_ports": _passive_ports()})
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runtime = Runtime(local)
    asyncio.run_coroutine_threadsafe(runtime.start(), loop).result(60)
    try:
        url = runtime.endpoints["http"].split(" ")[0]
        ready = httpx.get(f"{url}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checked"] == ["database", "migrations", "spool", "sftp", "ftp", "http"]
        assert runtime.sftp is not None and runtime.ftp is not None
        runtime.sftp.stop_accepting()
        runtime.ftp.stop_accepting()
        for _ in range(50):  # the FTP listener closes on its own loop
            answer = httpx.get(f"{url}/readyz", timeout=10)
            if "ftp" in answer.json().get("not_ready", {}):
                break
        assert answer.status_code == 503
        assert answer.json()["not_ready"] == {"sftp": "not accepting connections", "ftp": "not accepting connections"}
    finally:
        asyncio.run_coroutine_threadsafe(runtime.stop(), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


# -- metrics ----------------------------------------------------------------------------------------------------

def test_metrics_move_with_an_sftp_an_ftps_and_a_web_service_submission(harness, kit):  # noqa: F811
    before = samples(httpx.get(f"{harness.http_url}/metrics").text)
    sftp_sub, ftps_sub, ws_sub = build(kit, seq="00001"), build(kit, seq="00002"), build(kit, seq="00003")
    put(harness.port, kit, sftp_sub)
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    ftps = ftplib.FTP_TLS(context=context)
    ftps.connect("127.0.0.1", harness.ftp_port, timeout=20)
    ftps.auth()
    ftps.login(kit.technical_user, kit.password)
    ftps.prot_p()
    for folder, name, data in ftps_sub.files:
        ftps.storbinary(f"STOR /{folder}/{name}", io.BytesIO(data))
    ftps.quit()
    assert all(r.status_code == 201 for r in put_files(harness, bearer(harness, kit), ws_sub))
    harness.wait_acrf(kit, count=3)  # DMFA: every ACRF on the preferred channel, SFTP
    after = samples(httpx.get(f"{harness.http_url}/metrics").text)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    for protocol, sub in (("SFTP", sftp_sub), ("FTPS", ftps_sub), ("WS", ws_sub)):
        assert moved("gga_logins_total", protocol=protocol, result="ok") >= 1, protocol
        assert moved("gga_uploads_total", protocol=protocol, result="ok") == len(sub.files), protocol
        assert moved("gga_bytes_received_total", protocol=protocol) == sum(len(d) for _, _, d in sub.files)
    assert moved("gga_submissions_total", application="DMFA", environment="T", result="accepted",
                 error_code="") == 3
    route = "/REST/batch/v1/{environment}/files/{name}"
    assert moved("gga_http_requests_total", method="PUT", route=route, status="201") == len(ws_sub.files)
    assert moved("gga_http_request_duration_seconds_count", method="PUT", route=route) == len(ws_sub.files)
    assert ("gga_outbox_backlog", frozenset()) in after
    assert value(after, "gga_sessions_open", protocol="SFTP") == 0  # every session above has ended


def test_a_submission_latency_goes_to_the_histogram_not_to_the_row(db):
    before = samples(_metrics_text())
    TransferLog(db).record("submission", "rejected", protocol="SFTP", application="DIMN", environment="T",
                           error_code="SIGNATURE_INVALID", file_name="GO.latency", latency_s=2.0)
    after = samples(_metrics_text())
    count = ("gga_acrf_latency_seconds_count", frozenset({"result": "rejected"}.items()))
    assert after[count] - before.get(count, 0) == 1
    labels = {"application": "DIMN", "environment": "T", "result": "rejected", "error_code": "SIGNATURE_INVALID"}
    assert value(after, "gga_submissions_total", **labels) - value(before, "gga_submissions_total", **labels) == 1
    with db.read() as session:
        row = session.query(TransferEvent).filter_by(file_name="GO.latency").one()
    assert not (row.details or {}).get("latency_s")


def _metrics_text() -> str:
    from gateway.core.metrics import render

    return render()[0].decode()


# -- logs and the command ---------------------------------------------------------------------------------------

def test_every_http_request_gives_one_json_access_line(settings, database_url, data_dir, tmp_path):
    sftp, ftp, http, low = _free_ports(4)
    env = {**os.environ, "GGA_DATABASE_URL": database_url, "GGA_DATA_DIR": str(data_dir),
           "GGA_SFTP_BIND": f"127.0.0.1:{sftp}", "GGA_FTP_BIND": f"127.0.0.1:{ftp}",
           "GGA_HTTP_BIND": f"127.0.0.1:{http}", "GGA_FTP_PASSIVE_PORTS": f"{low}-{low}"}
    env.pop("GGA_LOG_FORMAT", None)  # json is the default
    instance = Instance("logs", env, sftp, http, tmp_path / "serve.log")
    instance.start()
    try:
        url = f"http://127.0.0.1:{http}"
        statuses = [httpx.get(f"{url}{path}", timeout=10).status_code
                    for path in ("/healthz", "/readyz", "/metrics", "/api/v1/enterprises/0123456749", "/nowhere")]
        assert statuses[:3] == [200, 200, 200] and statuses[3] >= 400

        async def wrong_password() -> None:
            with pytest.raises(asyncssh.PermissionDenied):
                await asyncssh.connect("127.0.0.1", sftp, username="nobody", password="wrong", known_hosts=None,
                                       client_keys=None, preferred_auth="password")
        asyncio.run(wrong_password())
    finally:
        instance.stop()
    assert instance.process is not None and instance.process.returncode == 0
    lines = [json.loads(line) for line in instance.log.read_text().splitlines() if line.strip()]  # all JSON
    assert all({"time", "level", "logger", "event"} <= line.keys() for line in lines)
    access = [line for line in lines if line["logger"] == "gga.access"]
    assert [(a["method"], a["route"], a["status"]) for a in access] == [
        ("GET", "/healthz", 200), ("GET", "/readyz", 200), ("GET", "/metrics", 200),
        ("GET", "/api/v1/enterprises/{number}", statuses[3]), ("GET", "unmatched", 404)]
    assert all(isinstance(a["duration_ms"], float) and a["remote"] == "127.0.0.1" for a in access)
    assert not [line for line in lines if line["logger"].startswith("uvicorn")]
    started = {line["endpoint"]: line["url"] for line in lines if "endpoint" in line}
    assert started["http"] == url and started["sftp"] == f"sftp://127.0.0.1:{sftp}"
    (refused,) = [line for line in lines if line["logger"] == "gga.transfers" and line["event"] == "login"]
    assert (refused["result"], refused["protocol"], refused["technical_user"]) == ("refused", "SFTP", "nobody")


def test_console_format_for_people(database_url, data_dir):
    env = {**os.environ, "GGA_LOG_FORMAT": "console", "GGA_DATABASE_URL": database_url,
           "GGA_DATA_DIR": str(data_dir)}
    proc = subprocess.Popen([GGA, "serve", "--http-bind", "127.0.0.1:0", "--sftp-bind", "127.0.0.1:0",
                             "--ftp-bind", "127.0.0.1:0", "--ftp-passive-ports", _passive_ports()],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        first = next(line for line in proc.stdout if "gga:" in line)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    assert " info " in first and "gga: sftp  sftp://127.0.0.1:" in first and not first.startswith("{"), first


def test_version():
    result = subprocess.run([GGA, "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.strip().startswith("gga-gateway ") and result.stdout.split()[1][0].isdigit()


def test_every_metric_name_is_prefixed_gga(harness):  # noqa: F811
    """The contract: metric names prefixed gga_. prometheus-client's defaults (python_gc_*, process_*) were served
    beside ours; the process figures now come as gga_process_*."""
    text = httpx.get(f"{harness.http_url}/metrics").text
    names = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    assert names and all(name.startswith("gga_") for name in names), sorted(n for n in names if n[:4] != "gga_")
    assert "gga_process_resident_memory_bytes" in names

