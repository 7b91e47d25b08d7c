"""FTP/FTPS specifics: TLS required unless the operator allows plain FTP, cut data connections, lftp."""

import contextlib
import ftplib
import functools
import io
import os
import shutil
import socket
import ssl
import struct
import subprocess

import pytest
from sqlalchemy import select

from admin_api.identity import Caller
from admin_api.sender import service as senders
from admin_api.sender.schemas import ChannelPatch
from gateway.ftp.server import FTPFrontEnd, passive_ports_for, passive_range
from store.models import TransferEvent
from tests.gateway.harness import build, error_ids, log_rows, wait_any_acrf, wait_submission


def tls_client(harness, kit, password: str | None = None, port: int | None = None) -> ftplib.FTP_TLS:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    ftp = ftplib.FTP_TLS(context=context)
    ftp.connect("127.0.0.1", port or harness.ftp_port, timeout=20)
    ftp.auth()
    ftp.login(kit.technical_user, password or kit.password)
    ftp.prot_p()
    return ftp


def gap(db, kit):
    from store.models import Domain, Enterprise

    with db.read() as session:  # called inside a write transaction: a read of its own
        return Caller(session.get(Enterprise, session.get(Domain, kit.domain_id).enterprise_number).main_manager_niss,
                      "eid")


def test_plain_ftp_only_where_the_router_connection_allows_it(harness, kit, db):
    plain = ftplib.FTP()
    plain.connect("127.0.0.1", harness.ftp_port, timeout=20)
    with pytest.raises(ftplib.error_perm, match="530 TLS_REQUIRED: send AUTH TLS first"):
        plain.login(kit.technical_user, kit.password)
    plain.close()
    with db.session() as session:  # refused once, with its own code (not also "login ok")
        logins = [(e.result, e.error_code) for e in session.scalars(select(TransferEvent).where(
            TransferEvent.event == "login"))]
    assert logins == [("refused", "TLS_REQUIRED")]
    with db.session() as session:
        senders.update_channel(session, gap(db, kit), kit.domain_id, "FTP", ChannelPatch(plain_ftp=True))
    plain = ftplib.FTP()
    plain.connect("127.0.0.1", harness.ftp_port, timeout=20)
    plain.login(kit.technical_user, kit.password)
    for folder, name, data in build(kit, app="DIMN", content=b"flat").files:
        plain.storbinary(f"STOR /{folder}/{name}", io.BytesIO(data))
    plain.quit()
    assert wait_any_acrf(harness, kit)[1].findtext("ResultCode") == "1"


def test_data_must_be_protected_once_the_control_channel_is(harness, kit):
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    ftp = ftplib.FTP_TLS(context=context)
    ftp.connect("127.0.0.1", harness.ftp_port, timeout=20)
    ftp.auth()
    ftp.login(kit.technical_user, kit.password)  # no PROT P
    with pytest.raises(ftplib.error_perm, match="SSL/TLS required on the data channel"):
        ftp.nlst("/")
    ftp.close()


def test_a_tls_data_connection_closed_without_close_notify_keeps_nothing(harness, kit, db):
    """A close without TLS's close_notify was taken for the end of the file (226, kept): in environment S, where no
    FS proves the file whole, the cut FI was accepted and handed to the application's simulation (found by an
    outside test helper). RFC 4217 takes such an end for a truncation: refused at once, nothing kept."""
    sub = build(kit, env="S", sign=False)
    ftp = tls_client(harness, kit)
    (folder, fi_name, data), go = sub.files
    conn = ftp.transfercmd(f"STOR /{folder}/{fi_name}")
    conn.sendall(data[: len(data) // 2])  # the payroll server's line drops half way
    conn.close()  # a TCP close, no close_notify (Python's close() sends none; unwrap() would)
    # (a reset, should TLS 1.3's session ticket lie unread, is told the same way)
    with pytest.raises(ftplib.error_temp, match=r"^426 UPLOAD_INCOMPLETE: "):
        ftp.voidresp()
    assert ftp.nlst(f"/{folder}") == []
    ftp.storbinary(f"STOR /{go[0]}/{go[1]}", io.BytesIO(go[2]))
    ftp.quit()
    acrf = wait_any_acrf(harness, kit)[1]
    assert acrf.findtext("ResultCode") == "0" and error_ids(acrf) != [], error_ids(acrf)
    assert [(r.result, r.error_code) for r in log_rows(db, event="upload", name=fi_name, count=1)] == [
        ("incomplete", "UPLOAD_INCOMPLETE")]


@pytest.mark.parametrize("tls", [True, False])
def test_a_data_connection_reset_mid_file_is_refused_and_keeps_nothing(harness, kit, db, tls):
    """A reset (the sender's process or line went down) was taken for the end of the file: 226, the cut file kept
    and its name used up (over plain FTP too, where a close is the only end of a file there is)."""
    if not tls:
        with db.session() as session:
            senders.update_channel(session, gap(db, kit), kit.domain_id, "FTP", ChannelPatch(plain_ftp=True))
    folder, name, data = build(kit).files[0]
    ftp = tls_client(harness, kit) if tls else ftplib.FTP()
    if not tls:
        ftp.connect("127.0.0.1", harness.ftp_port, timeout=20)
        ftp.login(kit.technical_user, kit.password)
    conn = ftp.transfercmd(f"STOR /{folder}/{name}")
    conn.sendall(data[: len(data) // 2])
    ftp.sendcmd("NOOP")  # the half is in: the server has read it
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()  # RST
    with pytest.raises(ftplib.error_temp, match="426 UPLOAD_INCOMPLETE"):
        ftp.voidresp()
    ftp.close()
    assert not (harness.home(kit, "FTP") / folder / name).exists()
    assert [(r.result, r.error_code) for r in log_rows(db, event="upload", name=name, count=1)] == [
        ("incomplete", "UPLOAD_INCOMPLETE")]


def test_an_unexpected_failure_at_the_end_of_an_upload_still_gets_an_answer_with_its_code(harness, kit,
                                                                                           monkeypatch):
    """The database down while a refused upload was logged: the exception left the data connection's close and
    the client waited for a reply that never came."""
    def broken(_upload, _end):  # type: ignore[no-untyped-def]
        raise RuntimeError("database unreachable")
    monkeypatch.setattr(harness.gateway.transfers, "settle", broken)
    folder, name, data = build(kit).files[0]
    ftp = tls_client(harness, kit)
    with pytest.raises(ftplib.error_temp, match="451 UPLOAD_INCOMPLETE"):
        ftp.storbinary(f"STOR /{folder}/{name}", io.BytesIO(data))
    ftp.quit()


@pytest.mark.parametrize("second", ["STOR", "RETR", "LIST"])
def test_a_command_that_would_start_a_second_transfer_while_one_flows_is_refused(harness, kit, second):
    """pyftpdlib took it and gave the data connection the new file: the first upload stayed open and unsettled
    (its name claimed, a drain waiting for it) and the second got the first one's tail."""
    (folder, fi_name, data), _, _ = build(kit).files
    other = build(kit, seq="00002").files[0][1]
    ftp = tls_client(harness, kit)
    conn = ftp.transfercmd(f"STOR /{folder}/{fi_name}")
    conn.sendall(data[:40])
    command = {"STOR": f"STOR /{folder}/{other}", "RETR": "RETR /OUTTEST/FO.ACRF.x", "LIST": "LIST /"}[second]
    with pytest.raises(ftplib.error_temp, match="450 TRANSFER_IN_PROGRESS"):
        ftp.sendcmd(command)
    conn.sendall(data[40:])
    conn.unwrap()
    conn.close()
    assert ftp.voidresp().startswith("226")
    ftp.quit()
    assert (harness.home(kit, "FTP") / folder / fi_name).read_bytes() == data
    assert not (harness.home(kit, "FTP") / folder / other).exists()
    assert harness.gateway.transfers.in_flight == 0
    assert [p for p in (harness.home(kit, "FTP") / ".partial").rglob("*") if not p.is_dir()] == []


def test_on_ftp_an_fi_without_its_fs_is_taken_in_simulation_as_on_every_channel(harness, kit):
    """The contract: "FS may be omitted only in environment S", whatever the channel (FTP demanded it there)."""
    ftp = tls_client(harness, kit)
    for folder, name, data in build(kit, env="S", sign=False).files:
        ftp.storbinary(f"STOR /{folder}/{name}", io.BytesIO(data))
    ftp.quit()
    acrf = wait_any_acrf(harness, kit)[1]
    assert acrf.findtext("ResultCode") == "1" and error_ids(acrf) == []


def test_returns_read_and_deleted_over_ftps(harness, kit):
    ftp = tls_client(harness, kit)
    for folder, name, data in build(kit, app="DIMN", content=b"flat").files:  # DIMN prefers FTP
        ftp.storbinary(f"STOR /{folder}/{name}", io.BytesIO(data))
    wait_any_acrf(harness, kit)
    fo = "/OUTTEST/" + next(n for n in ftp.nlst("/OUTTEST") if n.startswith("FO.ACRF."))
    buffer = io.BytesIO()
    ftp.retrbinary(f"RETR {fo}", buffer.write)
    assert b"<ResultCode>1</ResultCode>" in buffer.getvalue()
    ftp.delete(fo)
    assert fo.rsplit("/", 1)[1] not in ftp.nlst("/OUTTEST")
    with pytest.raises(ftplib.error_perm, match="COMMAND_NOT_ALLOWED"):
        ftp.mkd("/INTEST/sub")
    with pytest.raises(ftplib.error_perm, match="COMMAND_NOT_ALLOWED"):
        ftp.rename(fo.replace("FO.", "FS.", 1), "/INTEST/x")
    ftp.quit()


@pytest.mark.skipif(shutil.which("lftp") is None, reason="lftp not installed (.ci/run installs it)")
def test_lftp_client(harness, kit, tmp_path):
    for _, name, data in build(kit, seq="0LFTP").files:
        (tmp_path / name).write_bytes(data)
    script = (f"set ftp:ssl-force true; set ftp:ssl-protect-data true; set ssl:verify-certificate no; "
              f"open -u {kit.technical_user},{kit.password} -p {harness.ftp_port} 127.0.0.1; cd INTEST; "
              f"mput FI.* FS.*; mput GO.*; bye")
    result = subprocess.run(["lftp", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert wait_any_acrf(harness, kit)[1].findtext("ResultCode") == "1"



# -- one protocol name per session ------------------------------------------------------------------------------
def session_steps(db, go_name: str) -> list[tuple[str, str]]:
    """(event, protocol) of what the sender's session did, once the submission is closed and logged (the
    ACRF's delivery into a return folder is the gateway's step, not the session's)."""
    wait_submission(db, go_name)
    return [(r.event, r.protocol) for r in log_rows(db) if r.event in ("login", "upload", "submission")]


def test_an_ftps_session_is_logged_ftps_at_every_step(harness, kit, db):
    ftp = tls_client(harness, kit)
    sub = build(kit, app="DIMN", content=b"flat")
    for folder, name, data in sub.files:
        ftp.storbinary(f"STOR /{folder}/{name}", io.BytesIO(data))
    ftp.quit()
    assert session_steps(db, sub.go) == [("login", "FTPS")] + [("upload", "FTPS")] * 3 + [("submission", "FTPS")]


def test_a_plain_ftp_session_is_logged_ftp_at_every_step(harness, kit, db):
    with db.session() as session:
        senders.update_channel(session, gap(db, kit), kit.domain_id, "FTP", ChannelPatch(plain_ftp=True))
    plain = ftplib.FTP()
    plain.connect("127.0.0.1", harness.ftp_port, timeout=20)
    plain.login(kit.technical_user, kit.password)
    sub = build(kit, app="DIMN", content=b"flat")
    for folder, name, data in sub.files:
        plain.storbinary(f"STOR /{folder}/{name}", io.BytesIO(data))
    plain.quit()
    assert session_steps(db, sub.go) == [("login", "FTP")] + [("upload", "FTP")] * 3 + [("submission", "FTP")]


# -- several workers on one control port (gga serve --workers N) --------------------------------------------------
def test_passive_ports_are_split_into_disjoint_shares_covering_the_range():
    ports = range(40000, 40010)
    shares = [passive_ports_for(w, 3, ports) for w in range(3)]
    assert shares == [list(range(40000, 40004)), list(range(40004, 40007)), list(range(40007, 40010))]
    assert passive_ports_for(0, 1, ports) == list(ports)
    assert passive_ports_for(1, 2, (21000, 21001)) == [21001]
    for bad in ((2, 2, ports), (-1, 2, ports), (0, 3, (1, 2))):
        with pytest.raises(ValueError):
            passive_ports_for(*bad)


class _PassiveSeen(ftplib.FTP_TLS):
    """Records the port of every PASV reply: which share (which listener) served the session."""

    def makepasv(self):  # type: ignore[no-untyped-def]
        host, port = super().makepasv()
        self.seen = [*getattr(self, "seen", []), port]
        return host, port


def test_two_listeners_share_the_control_port_each_with_its_passive_ports(harness, kit):
    ports = passive_range(harness.settings.ftp_passive_ports)
    shares = [passive_ports_for(worker, 2, ports) for worker in range(2)]
    first = FTPFrontEnd(harness.gateway, reuse_port=True, passive_ports=shares[0], bind="127.0.0.1:0")
    port = int(first.start().rsplit(":", 1)[1])
    second = FTPFrontEnd(harness.gateway, reuse_port=True, passive_ports=shares[1], bind=f"127.0.0.1:{port}")
    second.start()
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    served: list[int] = []
    try:
        for _ in range(40):  # the kernel picks the listener by the client's address and port: a few tries each
            ftp = _PassiveSeen(context=context)
            ftp.connect("127.0.0.1", port, timeout=20)
            ftp.auth()
            ftp.login(kit.technical_user, kit.password)
            ftp.prot_p()
            ftp.nlst("/INTEST")
            worker = 0 if ftp.seen[0] in shares[0] else 1
            if worker not in served:  # a full session on this listener: upload, ACRF, listing
                served.append(worker)
                sub = build(kit, app="DIMN", content=b"flat", seq=f"0000{len(served)}")
                for folder, name, data in sub.files:
                    ftp.storbinary(f"STOR /{folder}/{name}", io.BytesIO(data))
                wait_any_acrf(harness, kit, count=len(served))
                assert len([n for n in ftp.nlst("/OUTTEST") if n.startswith("FO.ACRF.")]) == len(served)
                assert all(p in shares[worker] for p in ftp.seen)  # every data connection went to its own share
            ftp.quit()
            if len(served) == 2:
                break
    finally:
        first.stop()
        second.stop()
    assert sorted(served) == [0, 1]


@functools.cache
def _two_ports() -> str:
    """Two consecutive ports free when the test starts, below the kernel's ephemeral range (32768 and up here), so
    no client's outgoing connection takes one meanwhile (the test then saw a third port, or a 425 too early)."""
    for low in range(20000 + (os.getpid() % 100) * 100, 32000, 2):
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", low))
                b.bind(("127.0.0.1", low + 1))
            return f"{low}-{low + 1}"
        except OSError:
            continue
    raise RuntimeError("no two free ports")


@pytest.mark.parametrize("limits", [{"ftp_passive_ports": _two_ports()}])
def test_a_full_passive_range_is_refused_not_swapped_for_a_port_outside_it(harness, kit):
    """pyftpdlib bound a port the kernel chose once the range was taken: one no firewall opens, where the client
    hung until its timeout. Such a PASV is now a 425 with its code; the range serves again once a port is free."""
    low, high = (int(p) for p in _two_ports().split("-"))
    clients = [tls_client(harness, kit) for _ in range(3)]
    try:
        ports = [ftplib.parse227(c.sendcmd("PASV"))[1] for c in clients[:2]]
        assert sorted(ports) == [low, high]
        with pytest.raises(ftplib.error_temp, match="425 DATA_PORT_UNAVAILABLE"):
            clients[2].sendcmd("PASV")
        clients[0].quit()  # its waiting data port closes with it
        assert low <= ftplib.parse227(clients[2].sendcmd("PASV"))[1] <= high
    finally:
        for c in clients:
            with contextlib.suppress(Exception):
                c.close()


def test_hidden_folders_listing_options_overlong_lines_and_facts(harness, kit, db):
    """The .partial area could be entered and listed (uploads in progress, instance names); `LIST -la /OUTTEST`
    was taken for a path; an overlong line got two replies, every later reply one command late; MLSx facts offered
    what is always refused; a resumed download (REST) was logged with the offset reached, not the bytes sent; a CWD
    to no folder was refused with no code."""
    ftp = tls_client(harness, kit)
    for command in ("CWD /.partial", "NLST /.partial", "MLST /INTEST/../.partial", "SIZE /.partial/x"):
        with pytest.raises(ftplib.error_perm, match="550 PATH_NOT_ALLOWED"):
            ftp.sendcmd(command)
    for command in ("CWD /etc", "CWD /INTEST/sub"):  # no such folder: said with its code (and one final dot)
        with pytest.raises(ftplib.error_perm, match=r"550 FILE_NOT_FOUND: .*no such folder.*[^.]\.$"):
            ftp.sendcmd(command)
    assert ftp.sendcmd("CWD ../../..").startswith("250") and ftp.pwd() == "/"  # above the home is the home
    for folder, name, data in build(kit, app="DIMN", content=b"flat").files:  # DIMN prefers FTP
        ftp.storbinary(f"STOR /{folder}/{name}", io.BytesIO(data))
    wait_any_acrf(harness, kit)
    listed: list[str] = []
    ftp.retrlines("LIST -la /OUTTEST", listed.append)
    assert any("FO.ACRF." in line for line in listed), listed
    ftp.sock.sendall(b"NOOP " + b"A" * 3000 + b"\r\n")
    with pytest.raises(ftplib.error_perm, match="500 Command too long"):
        ftp.getresp()
    assert ftp.sendcmd("NOOP").startswith("200")  # its own reply, not a leftover "500 Command not understood"
    assert "perm=el;" in ftp.sendcmd("MLST /OUTTEST")  # a return folder: entered and listed, nothing made there
    facts = {}
    for line in ftp.mlsd("/OUTTEST", facts=["perm"]):
        facts[line[0]] = line[1]["perm"]
    fo = next(n for n in facts if n.startswith("FO.ACRF."))
    assert facts[fo] == "rd"
    ftp.voidcmd("TYPE I")
    size = ftp.size(f"/OUTTEST/{fo}")
    received = io.BytesIO()
    ftp.retrbinary(f"RETR /OUTTEST/{fo}", received.write, rest=10)
    assert len(received.getvalue()) == size - 10
    ftp.quit()
    rows = log_rows(db, event="download", name=fo, count=1)
    assert (rows[-1].result, rows[-1].size) == ("ok", size - 10)
