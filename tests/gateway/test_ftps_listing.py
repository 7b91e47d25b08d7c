"""FTPS listings of a return folder (issue 13): empty or not, NLST, LIST and MLSD work every time with ftplib over
TLS 1.2 and 1.3, with curl and with lftp, and the control connection stays in step."""

import ftplib
import io
import shutil
import socket
import ssl
import subprocess

import pytest

from tests.gateway.harness import build, wait_any_acrf

ROUNDS = 50
COMMANDS = ("NLST", "LIST", "MLSD")
LATE_ROUNDS = 12  # clients that open the data connection only once the command is answered


def ftps(port: int, kit, tls: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED) -> ftplib.FTP_TLS:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.maximum_version = tls
    ftp = ftplib.FTP_TLS(context=context)
    ftp.connect("127.0.0.1", port, timeout=20)
    ftp.auth()
    ftp.login(kit.technical_user, kit.password)
    ftp.prot_p()
    return ftp


def names(command: str, lines: list[str]) -> list[str]:
    """The file names a listing shows (LIST lines end with the name, MLSD lines start with facts)."""
    if command == "LIST":
        return sorted(line.split()[-1] for line in lines)
    if command == "MLSD":
        return sorted(line.split("; ", 1)[1] for line in lines if "type=file;" in line.lower())
    return sorted(lines)


def listing(ftp: ftplib.FTP_TLS, command: str, folder: str = "/OUTTEST") -> list[str]:
    lines: list[str] = []
    ftp.retrlines(f"{command} {folder}", lines.append)  # reads the 226 too: the next reply is the next command's
    return names(command, lines)


def late_listing(ftp: ftplib.FTP_TLS, command: str, folder: str = "/OUTTEST") -> list[str]:
    """The command first, the data connection once it is answered 150: the server pushes the listing the moment
    it accepts the connection, before any TLS byte came in."""
    host, port = ftp.makepasv()
    ftp.putcmd(f"{command} {folder}")
    assert ftp.getresp().startswith("150")
    with ftp.context.wrap_socket(socket.create_connection((host, port), 20), server_hostname=ftp.host) as conn:
        data = b""
        for _ in range(1000):  # bounded: a listing here is a few hundred bytes
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        conn.unwrap()
    assert ftp.voidresp().startswith("226")
    return names(command, data.decode().splitlines())


def deliver_acrf(harness, kit, ftp: ftplib.FTP_TLS, seq: str = "00001", count: int = 1) -> list[str]:
    """A DIMN submission over this session (DIMN prefers FTP: its ACRF lands in the FTP return folder); the names
    now in that folder."""
    for folder, name, data in build(kit, app="DIMN", content=b"flat", seq=seq).files:
        ftp.storbinary(f"STOR /{folder}/{name}", io.BytesIO(data))
    assert wait_any_acrf(harness, kit, count=count)[0] == "FTP"
    return sorted(p.name for p in (harness.home(kit, "FTP") / "OUTTEST").iterdir() if not p.name.startswith("."))


@pytest.mark.parametrize("tls", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["tls1.2", "tls1.3"])
def test_ftplib_lists_an_empty_and_a_full_return_folder_every_time(harness, kit, tls):
    ftp = ftps(harness.ftp_port, kit, tls)
    assert ftp.sock.version() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[tls]
    expected: list[str] = []
    for state in ("empty", "full"):
        if state == "full":
            expected = deliver_acrf(harness, kit, ftp)
            assert any(n.startswith("FO.ACRF.") for n in expected)
        for n in range(ROUNDS):
            assert listing(ftp, COMMANDS[n % 3]) == expected, (state, n)
        for n in range(LATE_ROUNDS):
            assert late_listing(ftp, COMMANDS[n % 3]) == expected, (state, "late", n)
    go = next(n for n in expected if n.startswith("GO.ACRF."))
    for _ in range(LATE_ROUNDS):  # an empty file is sent like an empty listing
        received = io.BytesIO()
        assert ftp.retrbinary(f"RETR /OUTTEST/{go}", received.write).startswith("226")
        assert received.getvalue() == b""
    assert ftp.quit().startswith("221")  # still in step after 124 transfers


def curl(harness, kit, *extra: str) -> list[str]:
    result = subprocess.run(["curl", "--silent", "--show-error", "--ssl-reqd", "--insecure", "--user",
                             f"{kit.technical_user}:{kit.password}", *extra,
                             f"ftp://127.0.0.1:{harness.ftp_port}/OUTTEST/"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def lftp(harness, kit) -> dict[str, list[str]]:
    """One lftp session listing with MLSD (cls), NLST (nlist) and LIST (ls); the output of each."""
    script = (f"set ftp:ssl-force true; set ftp:ssl-protect-data true; set ssl:verify-certificate no; "
              f"set cache:enable no; set ftp:use-mlsd true; "
              f"open -u {kit.technical_user},{kit.password} -p {harness.ftp_port} 127.0.0.1; "
              f"echo =MLSD; cls -1 /OUTTEST; echo =NLST; nlist /OUTTEST; echo =LIST; ls /OUTTEST; bye")
    result = subprocess.run(["lftp", "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    sections: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        if line.startswith("="):
            sections[line[1:]] = []
        else:
            sections[list(sections)[-1]].append(line)
    return sections


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("lftp") is None, reason="curl or lftp missing")
def test_curl_and_lftp_list_an_empty_and_a_full_return_folder(harness, kit):
    for state in ("empty", "full"):
        expected: list[str] = []
        if state == "full":
            ftp = ftps(harness.ftp_port, kit)
            expected = deliver_acrf(harness, kit, ftp)
            ftp.quit()
        for _ in range(3):
            assert names("LIST", curl(harness, kit)) == expected, state
            assert sorted(curl(harness, kit, "--list-only")) == expected, state
        found = lftp(harness, kit)
        assert sorted(n.rstrip("/").rsplit("/", 1)[-1] for n in found["MLSD"]) == expected, found
        assert sorted(n.rsplit("/", 1)[-1] for n in found["NLST"]) == expected, found
        assert names("LIST", found["LIST"]) == expected, found


@pytest.mark.skipif(shutil.which("lftp") is None, reason="lftp missing")
def test_active_mode_ftps_uploads_lists_and_downloads_with_ftplib_and_lftp(harness, kit):
    """Active mode (PORT/EPRT: the gateway connects back to the client) over TLS with private data connections:
    a whole submission sent with ftplib, its ACRF listed and fetched, the folder listed by lftp too. curl 7.87-7.88
    (Debian 12's) hangs in this mode against any server after accepting the data connection (curl issue #10666);
    these clients show the gateway's side works."""
    ftp = ftps(harness.ftp_port, kit)
    ftp.set_pasv(False)
    expected = deliver_acrf(harness, kit, ftp)
    assert any(n.startswith("FO.ACRF.") for n in expected)
    for command in COMMANDS:
        assert listing(ftp, command) == expected, command
    acrf = next(n for n in expected if n.startswith("FO.ACRF."))
    received = io.BytesIO()
    assert ftp.retrbinary(f"RETR /OUTTEST/{acrf}", received.write).startswith("226")
    assert received.getvalue() == (harness.home(kit, "FTP") / "OUTTEST" / acrf).read_bytes()
    assert ftp.quit().startswith("221")
    script = (f"set ftp:ssl-force true; set ftp:ssl-protect-data true; set ssl:verify-certificate no; "
              f"set cache:enable no; set ftp:passive-mode false; "
              f"open -u {kit.technical_user},{kit.password} -p {harness.ftp_port} 127.0.0.1; nlist /OUTTEST; bye")
    result = subprocess.run(["lftp", "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert sorted(n.rsplit("/", 1)[-1] for n in result.stdout.splitlines()) == expected
