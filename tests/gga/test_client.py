"""`gga client` against a real `gga serve --demo` on loopback: accepted over SFTP, FTPS and the web service (the
ACRF found wherever it went, its signature checked), rejected, a transport error, and `fetch`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from defusedxml.ElementTree import fromstring

from kernel.errors import GGAError
from store.models import Base
from tests.gga.test_crash import _free_ports

GGA = str(Path(sys.executable).parent / "gga")
DMFA = b"<DmfAOriginal><Form><Identification>DMFA</Identification></Form></DmfAOriginal>"


@dataclass
class DemoServer:
    process: subprocess.Popen
    data_dir: Path
    log: Path

    @property
    def sender_json(self) -> Path:
        return self.data_dir / "demo" / "sender.json"

    @property
    def info(self) -> dict:
        return json.loads(self.sender_json.read_text())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_demo(database_url: str, folder: Path) -> DemoServer:
    """`gga serve --demo` on free loopback ports, data under ``folder/var``; returned once it is ready."""
    sftp, ftp, http, passive = _free_ports(4)
    env = os.environ | {"GGA_DATABASE_URL": database_url, "GGA_DATA_DIR": str(folder / "var"),
                        "GGA_SFTP_BIND": f"127.0.0.1:{sftp}", "GGA_FTP_BIND": f"127.0.0.1:{ftp}",
                        "GGA_HTTP_BIND": f"127.0.0.1:{http}", "GGA_FTP_PASSIVE_PORTS": f"{passive}-{passive}"}
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "serve.log"
    with log.open("ab") as out:
        process = subprocess.Popen([GGA, "serve", "--demo"], env=env, stdout=out, stderr=subprocess.STDOUT)
    server = DemoServer(process, folder / "var", log)
    deadline = time.monotonic() + 60
    while not (server.sender_json.exists() and _ready(http)):
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise AssertionError(log.read_text()[-3000:])
        time.sleep(0.2)
    return server


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def empty_database(migrated) -> None:  # type: ignore[no-untyped-def]
    with migrated.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(scope="module")
def demo(migrated, database_url, tmp_path_factory):  # type: ignore[no-untyped-def]
    empty_database(migrated)
    server = start_demo(database_url, tmp_path_factory.mktemp("client"))
    yield server
    server.stop()


def client(*args: str, timeout: float = 60) -> tuple[int, dict]:
    result = subprocess.run([GGA, "client", *args], capture_output=True, text=True, timeout=timeout)
    assert result.stdout.strip(), result.stderr
    return result.returncode, json.loads(result.stdout)


def send(demo: DemoServer, tmp_path: Path, channel: str, content: bytes = DMFA, application: str = "DMFA",
         *extra: str) -> tuple[int, dict]:
    (tmp_path / "fi.xml").write_bytes(content)
    return client("send", str(tmp_path / "fi.xml"), "--sender", str(demo.sender_json), "--application", application,
                  "--channel", channel, "--out", str(tmp_path / "acrf"), "--timeout", "20", *extra)


@pytest.mark.parametrize("channel", ["sftp", "ftps", "ws"])
def test_send_is_accepted_over_each_channel_and_the_acrf_is_found_checked_and_picked_up(demo, tmp_path, channel):
    code, result = send(demo, tmp_path, channel)
    assert code == 0, result
    assert result["result"] == "accepted" and result["errors"] == [] and result["signature"] == "verified"
    assert result["acrf_channel"] == "sftp"  # the demo prefers SFTP for every application, whatever was used
    acrf = fromstring(Path(result["acrf_file"]).read_bytes())
    assert acrf.findtext("FileName") == result["go"] and acrf.findtext("ReferenceNbr") == result["ticket"]
    assert acrf.findtext("ResultCode") == "1"
    day = time.strftime("%Y%m%d", time.gmtime())
    assert result["go"].startswith(f"GO.DMFA.{demo.info['sender_number']}.{day}.") and result["go"].endswith(".T.1")
    fs = (tmp_path / "acrf" / ("FS" + Path(result["acrf_file"]).name[2:]))
    assert fs.exists()
    code, fetched = client("fetch", "--sender", str(demo.sender_json), "--channel", "sftp", "--out",
                           str(tmp_path / "later"))
    assert code == 0 and Path(result["acrf_file"]).name not in [f["name"] for f in fetched["files"]]  # picked up


def test_the_web_service_go_answer_names_the_ticket_the_acrf_carries(demo, tmp_path):
    code, result = send(demo, tmp_path, "ws", DMFA, "DMFA", "--keep")
    assert code == 0, result
    acrf = fromstring(Path(result["acrf_file"]).read_bytes())
    assert len(result["ticket"]) == 13 and acrf.findtext("ReferenceNbr") == result["ticket"]
    code, fetched = client("fetch", "--sender", str(demo.sender_json), "--channel", "sftp", "--out",
                           str(tmp_path / "fetched"))
    assert code == 0, fetched
    assert [f["name"] for f in fetched["files"]] == [Path(result["acrf_file"]).name]  # --keep left it there
    assert fetched["files"][0]["signature"] == "verified"
    assert sorted(p.name[:2] for p in (tmp_path / "fetched").iterdir()) == ["FO", "FS", "GO"]
    again = client("fetch", "--sender", str(demo.sender_json), "--channel", "sftp", "--out", str(tmp_path / "x"))
    assert again == (0, again[1]) and again[1]["files"] == []  # fetch picked it up


def test_a_return_file_whose_signature_does_not_verify_is_reported_exit_2_and_left_on_the_gateway(demo, tmp_path):
    """It was deleted from the gateway and the command said 0: a forged or damaged ACRF taken for a good one, and
    the copy that could be checked again gone."""
    day = time.strftime("%Y%m%d", time.gmtime())
    name = f"FO.ACRF.999999.{day}.ZZZZ1.T"
    folder = demo.data_dir / "spool" / "mailboxes" / demo.info["sender_number"] / "SFTP" / "OUTTEST"
    folder.mkdir(parents=True, exist_ok=True)
    for kind, data in (("FO", b"<ACRF>not the gateway's</ACRF>"), ("FS", b"not a signature"), ("GO", b"")):
        (folder / (kind + name[2:])).write_bytes(data)
    code, fetched = client("fetch", "--sender", str(demo.sender_json), "--channel", "sftp", "--out",
                           str(tmp_path / "fetched"))
    assert code == 2, fetched
    (forged,) = [f for f in fetched["files"] if f["name"] == name]
    assert forged["signature"].startswith("SIGNATURE_")
    assert sorted(p.name[:2] for p in folder.glob("*" + name[2:])) == ["FO", "FS", "GO"]  # still there
    for kind in ("FO", "FS", "GO"):  # the test's own files gone, for the tests after it
        (folder / (kind + name[2:])).unlink()


@pytest.mark.parametrize("channel", ["sftp", "ftps", "ws"])
def test_a_file_naming_another_application_is_rejected_with_exit_1(demo, tmp_path, channel):
    dimona = b"<Dimona><Form><Identification>DIMONA</Identification></Form></Dimona>"
    code, result = send(demo, tmp_path, channel, dimona, "DMFA")
    assert code == 1, result
    assert result["result"] == "rejected" and [e["id"] for e in result["errors"]] == ["ACRF-129"]
    assert len(result["ticket"]) == 13 and result["signature"] == "verified"


def test_an_unreachable_gateway_is_a_transport_error_with_exit_2(demo, tmp_path):
    (closed,) = _free_ports(1)
    info = demo.info | {"endpoints": {"sftp": f"127.0.0.1:{closed}", "ftp": f"127.0.0.1:{closed}",
                                      "http": f"http://127.0.0.1:{closed}"}}
    (tmp_path / "sender.json").write_text(json.dumps(info))
    (tmp_path / "fi.xml").write_bytes(DMFA)
    code, result = client("send", str(tmp_path / "fi.xml"), "--sender", str(tmp_path / "sender.json"),
                          "--application", "DMFA", "--channel", "sftp", "--timeout", "5")
    assert code == 2 and result["result"] == "error", result
    code, result = client("fetch", "--sender", str(tmp_path / "sender.json"), "--channel", "ftps")
    assert code == 2 and result["result"] == "error", result


@pytest.mark.parametrize("channel", ["sftp", "ftps", "ws"])
def test_a_file_refused_on_upload_is_exit_1(demo, tmp_path, channel):
    code, result = send(demo, tmp_path, channel, DMFA, "DMFA", "--sequence", "00000")
    assert code == 1 and result["result"] == "refused", result  # NNNNN all zeros: the name is refused
    assert result["errors"][0]["id"] == "FILE_NAME_INVALID"


def test_the_ftps_certificate_is_pinned_on_first_use_or_checked_against_ca(demo, tmp_path):
    profile = tmp_path / "sender.json"
    profile.write_text(demo.sender_json.read_text())
    fetch = ["fetch", "--sender", str(profile), "--channel", "ftps", "--out", str(tmp_path / "out")]
    assert client(*fetch)[0] == 0
    pins = json.loads((tmp_path / "known_ftps.json").read_text())
    assert list(pins) == [demo.info["endpoints"]["ftp"]]
    assert client(*fetch)[0] == 0  # the same certificate again
    (tmp_path / "known_ftps.json").write_text(json.dumps(dict.fromkeys(pins, "0" * 64)))
    code, result = client(*fetch)
    assert code == 2 and "changed" in result["errors"][0]["description"]
    assert client(*fetch, "--ca", str(demo.data_dir / "keys" / "tls.pem"))[0] == 0
    code, result = client(*fetch, "--ca", str(demo.data_dir / "demo" / "demo-ca.pem"))  # not the server's
    assert code == 2 and "CERTIFICATE_VERIFY_FAILED" in result["errors"][0]["description"]


def test_the_fs_is_base64_wrapped_at_76_with_crlf_and_verifies(demo):
    import base64

    from gga.client.signing import fs_content, verify

    info = demo.info
    fs = fs_content(DMFA, Path(info["certificate"]).read_bytes(), Path(info["certificate_key"]).read_bytes())
    lines = fs.split(b"\r\n")
    assert lines[-1] == b"" and all(0 < len(line) <= 76 for line in lines[:-1])
    assert b"\n" not in fs.replace(b"\r\n", b"") and len(lines[0]) == 76
    assert base64.b64decode(b"".join(lines))[:1] == b"\x30"  # DER
    verify(DMFA, fs, Path(info["certificate"]).read_bytes())  # detached, over the exact bytes
    with pytest.raises(GGAError):
        verify(DMFA + b" ", fs, Path(info["certificate"]).read_bytes())
