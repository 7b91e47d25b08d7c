"""Issue 12 over FTP/FTPS, each attack as a client sends it: commands round the mailbox rules, NUL bytes, idle and
crowded connections, password guessing and the plain-text password oracle, and the TLS offer."""

import ftplib
import io
import socket
import ssl
import threading
import time

import pytest

from admin_api.sender import service as senders
from admin_api.sender.schemas import SenderPatch
from gateway.ftp import handler as ftp_handler
from store.models import Domain, Sender, SenderChannel
from tests.admin_api.senders import CONTACT
from tests.gateway.harness import error_codes, log_rows, today
from tests.gateway.test_ftp import gap, tls_client


def plain_client(harness) -> ftplib.FTP:
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", harness.ftp_port, timeout=20)
    return ftp


def router_sender(db, kit, passwords) -> None:
    """Another sender, whose FTP channel (a Router connection) the operator opened to plain FTP."""
    with db.session() as session:
        domain = Domain(enterprise_number=session.get(Domain, kit.domain_id).enterprise_number,
                        name="Employeur ONSS", identifier="4040404-99")
        session.add(domain)
        session.flush()
        session.add(Sender(number="999001", domain_id=domain.id, contact=CONTACT, technical_user="EXProuter1",
                           technical_user_key="exprouter1", password_hash=passwords.hash("Router-Sender-2026"),
                           channels=[SenderChannel(type="FTP", plain_ftp=True)]))


def fi_name(kit, seq: str) -> str:
    return f"/INTEST/FI.DMFA.{kit.number}.{today()}.{seq}.T.1.1"


# -- (4) commands round the mailbox rules ---------------------------------------------------------------------
REFUSED = ["STOU", "STOU /INTEST/x", "APPE {fi}", "RNFR {fi}", "RNTO /INTEST/y", "MKD /INTEST/d", "XMKD /INTEST/d",
           "RMD /OUT", "XRMD /OUT", "SITE CHMOD 777 /INTEST", "MFMT 20260101000000 /INTEST"]


def test_commands_that_would_make_move_or_remove_files_are_refused(harness, kit, db):
    ftp = tls_client(harness, kit)
    fi = fi_name(kit, "00001")
    ftp.storbinary(f"STOR {fi}", io.BytesIO(b"<a/>"))  # something for APPE and RNFR to aim at
    for command in REFUSED:
        with pytest.raises(ftplib.error_perm, match=r"^502 COMMAND_NOT_ALLOWED: "):
            ftp.sendcmd(command.format(fi=fi))
    with pytest.raises(ftplib.error_perm, match=r"^550 COMMAND_NOT_ALLOWED: Appending or resuming"):
        ftp.storbinary(f"STOR {fi_name(kit, '00002')}", io.BytesIO(b"<b/>"), rest=2)  # REST then STOR
    assert ftp.pwd() == "/"  # still connected
    ftp.quit()
    left = sorted(p.relative_to(harness.home(kit, "FTP")).as_posix()
                  for p in harness.home(kit, "FTP").rglob("*") if ".partial" not in p.parts)
    assert left == sorted(["IN", "INTEST", fi[1:], "INTEST-S", "OUT", "OUTTEST", "OUTTEST-S"])  # no ftpd.*
    rows = log_rows(db, event="command")
    assert len(rows) == len(REFUSED) and set(error_codes(rows)) == {"COMMAND_NOT_ALLOWED"}
    assert [r.details["command"] for r in rows] == [c.split()[0] if c.split()[0] != "SITE" else "SITE CHMOD"
                                                   for c in REFUSED]
    assert error_codes(log_rows(db, event="upload", name="00002")) == ["COMMAND_NOT_ALLOWED"]


def test_a_name_being_uploaded_is_busy_450(harness, kit):
    first, second = tls_client(harness, kit), tls_client(harness, kit)
    name = fi_name(kit, "00003")
    data = first.transfercmd(f"STOR {name}")
    data.sendall(b"<DmfAOriginal>")  # under way
    with pytest.raises(ftplib.error_temp, match=r"^450 UPLOAD_IN_PROGRESS: "):
        second.storbinary(f"STOR {name}", io.BytesIO(b"<other/>"))
    data.unwrap()  # the end of the file (a close alone, with TLS 1.3's unread session ticket, is a reset: a cut)
    data.close()
    first.voidresp()
    first.quit()
    second.quit()


def test_a_nul_in_a_command_is_answered_501_and_the_connection_kept(harness, kit):
    plain = plain_client(harness)
    with pytest.raises(ftplib.error_perm, match=r"^501 "):
        plain.sendcmd("USER EXP\0gate")
    plain.close()
    ftp = tls_client(harness, kit)
    for command in ("STOR /INTEST/FI\0x", "CWD /IN\0", "DELE /OUT/\0"):
        with pytest.raises(ftplib.error_perm, match=r"^501 Syntax error: NUL"):
            ftp.sendcmd(command)
    assert ftp.pwd() == "/"
    ftp.quit()


# -- (6) idle and crowded connections --------------------------------------------------------------------------
@pytest.mark.parametrize("limits", [{"idle_timeout_s": 1}])
def test_idle_control_and_data_connections_are_closed(harness, kit, db):
    ftp = tls_client(harness, kit)
    time.sleep(1.5)
    with pytest.raises(ftplib.error_temp, match=r"^421 IDLE_TIMEOUT: No command for 1 s \(GGA_IDLE_TIMEOUT_S\)"):
        ftp.voidcmd("NOOP")  # the 421 was waiting
    ftp.close()
    ftp = tls_client(harness, kit)
    data = ftp.transfercmd(f"STOR {fi_name(kit, '00004')}")  # a data connection that never sends
    with pytest.raises(ftplib.error_temp, match=r"^421 DATA_TIMEOUT: no data for 1 s .* not kept"):
        ftp.voidresp()
    data.close()
    ftp.close()
    assert error_codes(log_rows(db, event="upload", count=1)) == ["UPLOAD_INCOMPLETE"]


@pytest.mark.parametrize(("limits", "login_timeout_s"), [({"idle_timeout_s": 1}, 30), ({}, 1)])
def test_a_client_silent_in_its_tls_handshake_is_closed(harness, monkeypatch, login_timeout_s):
    """No reply can go out mid-handshake: the idle timeout's coded one (until pyftpdlib's close for that case was
    restored) and the login timeout's left such a connection open for good, its thread and slots with it."""
    monkeypatch.setattr(ftp_handler, "LOGIN_TIMEOUT_S", login_timeout_s)
    with socket.create_connection(("127.0.0.1", harness.ftp_port), timeout=10) as silent:
        reader = silent.makefile("rb")
        assert reader.readline().startswith(b"220")
        silent.sendall(b"AUTH TLS\r\n")
        assert reader.readline().startswith(b"234")
        started = time.monotonic()
        assert silent.recv(1) == b""  # then no ClientHello: closed by the server
        assert time.monotonic() - started < 5


def test_a_data_connection_never_opened_ends_with_its_code(harness, kit, monkeypatch):
    """pyftpdlib answered a bare "421 Passive data channel timed out." to a client that asked for a passive port
    and never connected to it."""
    monkeypatch.setattr(ftp_handler.RangeOnlyPassiveDTP, "timeout", 1)
    ftp = tls_client(harness, kit)
    ftp.sendcmd("PASV")
    time.sleep(1.5)
    with pytest.raises(ftplib.error_temp, match=r"^421 DATA_TIMEOUT: the data connection asked for was not opened "
                       r"within 1 s"):
        ftp.voidcmd("NOOP")  # the 421 was waiting
    assert ftp.voidcmd("NOOP").startswith("200")  # the control connection goes on
    ftp.quit()


def test_a_blocked_sender_reads_its_421_when_a_command_crosses_it(harness, kit, db, monkeypatch):
    """The 421 went out, then the connection was closed with the client's next command unread: the kernel sent a
    reset, not a FIN, so the client saw "connection reset by peer" (and a client that had not read the 421 yet, or
    whose stack drops unread data on a reset, lost it). Now the unread command is dropped and the close is a FIN."""
    ending, crossed = threading.Event(), threading.Event()
    original = ftp_handler.GatewayFTPHandler.handle_read_event

    def held(handler) -> None:  # type: ignore[no-untyped-def]  # the session is being ended: a command crosses now
        if handler._ended_by is not None and not ending.is_set():
            ending.set()
            crossed.wait(10)
        original(handler)

    monkeypatch.setattr(ftp_handler.GatewayFTPHandler, "handle_read_event", held)
    router_sender(db, kit, harness.services.passwords)
    client = plain_client(harness)
    client.login("EXProuter1", "Router-Sender-2026")
    with db.session() as session:
        domain_id = session.query(Sender).filter_by(number="999001").one().domain_id
        senders.update(session, gap(db, kit), domain_id, SenderPatch(status="blocked"), harness.services.passwords)
    assert ending.wait(10)
    client.sock.sendall(b"NOOP\r\n")
    time.sleep(0.1)
    crossed.set()
    time.sleep(0.3)  # the 421 and the close both arrive before the client reads
    assert client.sock.recv(4096).startswith(b"421 SENDER_BLOCKED: ")
    assert client.sock.recv(4096) == b""  # an orderly end (it was ECONNRESET)
    client.close()


def test_a_blocked_ftps_session_ends_with_its_tls_close(harness, kit, db):
    """The FIN sent after the 421 cut the TLS close_notify the close sends: a strict client (GnuTLS, curl) saw a
    truncated connection (SSLEOFError here) where it had ended cleanly."""
    raw = socket.create_connection(("127.0.0.1", harness.ftp_port), timeout=10)
    reader = raw.makefile("rb")
    assert reader.readline().startswith(b"220")
    raw.sendall(b"AUTH TLS\r\n")
    assert reader.readline().startswith(b"234")
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    tls = context.wrap_socket(raw, suppress_ragged_eofs=False)
    lines = tls.makefile("rb")
    for command, expected in ((f"USER {kit.technical_user}", b"331"), (f"PASS {kit.password}", b"230")):
        tls.sendall(command.encode() + b"\r\n")
        assert lines.readline().startswith(expected)
    with db.session() as session:
        senders.update(session, gap(db, kit), kit.domain_id, SenderPatch(status="blocked"), harness.services.passwords)
    assert lines.readline().startswith(b"421 SENDER_BLOCKED: ")
    assert tls.recv(100) == b""  # close_notify: an orderly TLS end (SSLEOFError without it)
    tls.close()


def test_an_aborted_upload_is_not_kept_and_its_426_says_so(harness, kit, db):
    """pyftpdlib's "426 Transfer aborted via ABOR." did not say what became of the bytes sent."""
    ftp = tls_client(harness, kit)
    data = ftp.transfercmd(f"STOR {fi_name(kit, '00007')}")
    data.sendall(b"D" * 100_000)
    for _ in range(100):  # until the server has bytes of it (ABOR before any is "no transfer to abort")
        if "Total bytes received: 0" not in ftp.sendcmd("STAT"):
            break
        time.sleep(0.05)
    with pytest.raises(ftplib.error_temp, match=r"^426 UPLOAD_INCOMPLETE: aborted \(ABOR\): nothing of this upload "
                       r"is kept\.$"):
        ftp.sendcmd("ABOR")
    assert ftp.voidresp().startswith("226")
    data.close()
    assert ftp.nlst("/INTEST") == [] and ftp.voidcmd("NOOP").startswith("200")
    ftp.quit()
    assert error_codes(log_rows(db, event="upload", count=1)) == ["UPLOAD_INCOMPLETE"]


def test_a_client_that_does_not_log_in_is_disconnected(harness, monkeypatch):
    monkeypatch.setattr(ftp_handler, "LOGIN_TIMEOUT_S", 1)  # read when each connection starts
    plain = plain_client(harness)
    time.sleep(1.5)
    with pytest.raises(ftplib.error_temp, match=r"^421 LOGIN_TIMEOUT: Not logged in within 1 s of connecting"):
        plain.voidcmd("NOOP")
    plain.close()


@pytest.mark.parametrize("limits", [{"max_connections_per_address": 2}])
def test_connections_per_address_are_limited(harness, db):
    open_ = [plain_client(harness), plain_client(harness)]
    for _ in range(3):
        with pytest.raises(ftplib.error_temp, match=r"^421 TOO_MANY_CONNECTIONS: at most 2 "):
            plain_client(harness)
    open_.pop().close()
    deadline = time.monotonic() + 5
    while True:  # the place is given back once that connection's thread has closed it
        try:
            open_.append(plain_client(harness))
            break
        except ftplib.error_temp:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    for ftp in open_:
        ftp.close()
    rows = log_rows(db, event="connection", count=1)
    time.sleep(0.3)
    assert error_codes(log_rows(db, event="connection")) == ["TOO_MANY_CONNECTIONS"]  # one line for the burst
    assert rows[0].protocol == "FTP" and rows[0].remote_address.startswith("127.0.0.1:")


# -- (9) password guessing ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("limits", [{"max_login_tries": 2}])
def test_password_tries_per_connection_are_limited(harness, kit, db, monkeypatch):
    monkeypatch.setattr(harness.ftp.server.handler, "auth_failed_timeout", 0.2)
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    ftp = ftplib.FTP_TLS(context=context)
    ftp.connect("127.0.0.1", harness.ftp_port, timeout=20)
    ftp.auth()
    with pytest.raises(ftplib.error_perm, match=r"^530 LOGIN_FAILED: .*blocked\.$"):
        ftp.login(kit.technical_user, "Wrong-Password-1")
    with pytest.raises(ftplib.error_perm, match=r"^530 LOGIN_FAILED: .* Disconnecting\.$"):
        ftp.login(kit.technical_user, "Wrong-Password-2")
    with pytest.raises((EOFError, OSError)):
        ftp.login(kit.technical_user, kit.password)  # too late on this connection
    ftp.close()
    rows = log_rows(db, event="login", count=3)
    assert error_codes(rows) == ["LOGIN_FAILED"] * 2 + ["TOO_MANY_LOGIN_TRIES"]
    assert [r.protocol for r in rows] == ["FTPS"] * 3, [(r.protocol, r.error_code) for r in rows]  # the last said FTP
    assert {r.sender_number for r in rows} == {kit.number}
    assert tls_client(harness, kit).quit().startswith("221")  # a new connection may log in


def test_a_plain_text_login_cannot_tell_a_right_password(harness, kit, db, monkeypatch):
    router_sender(db, kit, harness.services.passwords)  # plain FTP is offered, but not to this sender
    monkeypatch.setattr(harness.ftp.server.handler, "auth_failed_timeout", 1)
    answers = []
    for password in ("Wrong-Password-1", kit.password):
        plain = plain_client(harness)
        started = time.monotonic()
        with pytest.raises(ftplib.error_perm) as refused:
            plain.login(kit.technical_user, password)
        answers.append((str(refused.value), time.monotonic() - started >= 1))
        plain.close()
    assert answers[0] == answers[1] == (f"530 {ftp_handler.LOGIN_REFUSED}", True)
    assert error_codes(log_rows(db, event="login")) == ["LOGIN_FAILED", "TLS_REQUIRED"]  # the log knows


def test_user_before_auth_tls_is_refused_where_no_sender_may_use_plain_ftp(harness, kit, db):
    plain = plain_client(harness)
    with pytest.raises(ftplib.error_perm, match=r"^530 TLS_REQUIRED: send AUTH TLS first"):
        plain.sendcmd(f"USER {kit.technical_user}")
    plain.close()
    assert error_codes(log_rows(db, event="login")) == ["TLS_REQUIRED"]
    router_sender(db, kit, harness.services.passwords)
    plain = plain_client(harness)
    assert plain.sendcmd("USER EXProuter1").startswith("331")  # now the question is the password's
    plain.login("EXProuter1", "Router-Sender-2026")
    plain.quit()


# -- (14) TLS offer ------------------------------------------------------------------------------------------------
def _handshake(harness, context: ssl.SSLContext) -> str:
    with socket.create_connection(("127.0.0.1", harness.ftp_port), timeout=10) as raw:
        file = raw.makefile("rb")
        file.readline()
        raw.sendall(b"AUTH TLS\r\n")
        assert file.readline().startswith(b"234")
        with context.wrap_socket(raw) as tls:
            return f"{tls.version()} {tls.cipher()[0]}"


def _client(ciphers: str | None = None, maximum: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.maximum_version = maximum
    if ciphers:
        context.set_ciphers(ciphers)
    return context


def test_ftps_offers_tls_1_2_and_1_3_with_aead_suites_only(harness):
    """ECDHE + AES-GCM or ChaCha20-Poly1305 under TLS 1.2; CBC suites and RSA key exchange are refused."""
    assert _handshake(harness, _client()).startswith("TLSv1.3 ")
    assert _handshake(harness, _client(maximum=ssl.TLSVersion.TLSv1_2)).startswith("TLSv1.2 ECDHE-RSA-AES")
    assert _handshake(harness, _client("ECDHE-RSA-CHACHA20-POLY1305", ssl.TLSVersion.TLSv1_2)).endswith("POLY1305")
    for cbc in ("ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA384", "AES128-GCM-SHA256", "AES256-SHA"):
        with pytest.raises(ssl.SSLError):
            _handshake(harness, _client(cbc, ssl.TLSVersion.TLSv1_2))
