"""Issue 12 over SFTP, each attack as a client sends it: open handles, refused commands, idle and crowded
connections, password guessing, a blocked sender's open sessions, and a full file table."""

import asyncio
import ftplib
import logging
import os
import resource
import select
import socket
import subprocess
import time

import asyncssh
import pytest

from admin_api.sender import service as senders
from admin_api.sender.schemas import SenderPatch
from gateway.sftp import server as sftp_server
from tests.gateway.harness import _connect, build, error_codes, log_rows, openssh_sftp, put, sftp_call, today
from tests.gateway.test_ftp import gap, tls_client


# -- (3) open handles ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("limits", [{"sftp_max_handles": 4}])
def test_open_files_and_folders_are_capped_per_session(harness, kit, db):
    names = [f"/INTEST/FI.DMFA.{kit.number}.{today()}.0000{n}.T.1.1" for n in range(1, 7)]

    async def run(sftp):
        files = [await sftp.open(name, "wb") for name in names[:3]]
        folder = await sftp._handler.opendir(b"/OUTTEST")  # a folder handle holds a descriptor too
        refusals = []
        for attempt in (lambda: sftp.open(names[4], "wb"), lambda: sftp._handler.opendir(b"/INTEST"),
                        lambda: sftp.open(names[5], "wb")):
            with pytest.raises(asyncssh.SFTPFailure) as refused:
                await attempt()
            refusals.append(refused.value.reason)
        await sftp._handler.close(folder)  # a closed handle gives its place back
        files.append(await sftp.open(names[3], "wb"))
        for f in files:
            await f.close()
        return refusals

    refusals = sftp_call(harness.port, kit, run)
    assert len(refusals) == 3 and all(r.startswith("TOO_MANY_OPEN_FILES: At most 4 ") for r in refusals)
    time.sleep(0.3)  # the one log line is written in the background
    assert error_codes(log_rows(db, event="session", count=1)) == ["TOO_MANY_OPEN_FILES"]
    ftp = tls_client(harness, kit)  # the other listener is untouched
    assert ftp.nlst("/") and ftp.quit().startswith("221")


def test_listeners_survive_a_full_file_table(harness, kit, caplog):
    """accept() failing with EMFILE must neither close the FTP listener (pyftpdlib would) nor the SFTP one."""
    caplog.set_level(logging.ERROR)
    ftp_sock, sftp_sock = socket.socket(), socket.socket()  # made before the table is full
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    hog = []
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, len(os.listdir("/proc/self/fd")) + 32), hard))
    try:
        with pytest.raises(OSError):
            while True:
                hog.append(os.open(os.devnull, os.O_RDONLY))
        ftp_sock.connect(("127.0.0.1", harness.ftp_port))
        sftp_sock.connect(("127.0.0.1", harness.port))
        time.sleep(0.5)  # both listeners meet EMFILE at accept
    finally:
        for fd in hog:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    for sock, greeting in ((ftp_sock, b"220 "), (sftp_sock, b"SSH-2.0-")):
        sock.settimeout(10)
        assert sock.recv(200).startswith(greeting)  # the connections waiting in the backlog are served
        sock.close()
    assert "FTP out of resources at accept" in caplog.text  # both met the full table ...
    assert "socket.accept() out of system resource" in caplog.text  # (asyncio's own guard)
    assert put(harness.port, kit, build(kit)) == []  # ... and both still serve
    assert tls_client(harness, kit).quit().startswith("221")


# -- (4) commands that would make, move or remove files -----------------------------------------------------------
def test_folders_renames_and_links_are_refused_and_logged(harness, kit, db):
    async def run(sftp):
        refused = {}
        for what, call in {"mkdir": lambda: sftp.mkdir("/INTEST/x"), "rmdir": lambda: sftp.rmdir("/OUT"),
                           "rename": lambda: sftp.rename("/INTEST", "/X"),
                           "posix_rename": lambda: sftp.posix_rename("/OUT", "/INTEST/y"),
                           "symlink": lambda: sftp.symlink("/etc/passwd", "/INTEST/p"),
                           "link": lambda: sftp.link("/OUT", "/INTEST/l")}.items():
            with pytest.raises(asyncssh.SFTPPermissionDenied) as err:
                await call()
            refused[what] = err.value.reason
        await sftp.chmod("/INTEST", 0o777)  # modes and times are accepted and ignored (put -p)
        return refused, (await sftp.stat("/INTEST")).permissions

    refused, mode = sftp_call(harness.port, kit, run)
    assert all(r.startswith("COMMAND_NOT_ALLOWED: ") for r in refused.values()), refused
    assert mode & 0o777 != 0o777
    deadline = time.monotonic() + 5  # logged in the background
    while len(rows := [r for e in ("mkdir", "rmdir", "rename", "symlink", "link") for r in log_rows(db, event=e)]) < 6:
        assert time.monotonic() < deadline, rows
        time.sleep(0.05)
    assert len(rows) == 6 and set(error_codes(rows)) == {"COMMAND_NOT_ALLOWED"}
    assert sorted(p.name for p in harness.home(kit).iterdir() if not p.name.startswith(".")) == [
        "IN", "INTEST", "INTEST-S", "OUT", "OUTTEST", "OUTTEST-S"]


# -- (6) idle and crowded connections --------------------------------------------------------------------------
@pytest.mark.parametrize("limits", [{"idle_timeout_s": 1}])
def test_idle_connections_are_closed_busy_ones_are_not(harness, kit):
    async def run():
        async with await _connect(harness.port, kit) as idle, await _connect(harness.port, kit) as busy:
            sftp = await busy.start_sftp_client()
            started = time.monotonic()
            while time.monotonic() - started < 2.5:  # a request every 0.3 s keeps it open
                await sftp.listdir("/")
                await asyncio.sleep(0.3)
            await asyncio.wait_for(idle.wait_closed(), 1)  # closed by the server after 1 s without a request
            assert await sftp.listdir("/OUT") == [".", ".."]
            sftp.exit()

    asyncio.run(run())


def _openssh_session(harness, kit) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    """OpenSSH's sftp, logged in, its stdin left open and silent."""
    return subprocess.Popen(openssh_sftp(harness.port, kit.technical_user, kit.ssh_key_path, batch=False),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _stderr_until(sftp: subprocess.Popen, told: bytes, timeout: float = 15) -> bytes:
    """What it printed on stderr once ``told`` is among it (or the timeout passed); then it is ended. sftp itself
    notices the connection's end only at its next command: what the server said comes from its ssh on stderr."""
    err, deadline = b"", time.monotonic() + timeout
    try:
        while told not in err and time.monotonic() < deadline:
            if select.select([sftp.stderr], [], [], 0.5)[0]:
                err += os.read(sftp.stderr.fileno(), 4096)  # type: ignore[union-attr]
    finally:
        sftp.kill()
        sftp.communicate()
    return err


@pytest.mark.parametrize("limits", [{"idle_timeout_s": 1}])
def test_an_idle_openssh_client_is_told_why_it_was_disconnected(harness, kit):
    """The disconnect said "Idle for 1 s: disconnected.", without the code every other refusal carries."""
    told = b"IDLE_TIMEOUT: no request for 1 s (GGA_IDLE_TIMEOUT_S): disconnected"
    assert told in _stderr_until(_openssh_session(harness, kit), told)


def test_an_openssh_client_whose_sender_is_blocked_is_told_why(harness, kit, db):
    """A blocked sender's session was closed without a word (only the transfer log had the code)."""
    sftp = _openssh_session(harness, kit)
    deadline = time.monotonic() + 10
    while not harness.gateway.live.by_protocol()["SFTP"] and time.monotonic() < deadline:  # logged in
        time.sleep(0.05)
    with db.session() as session:
        senders.update(session, gap(db, kit), kit.domain_id, SenderPatch(status="blocked"),
                       harness.services.passwords)
    told = b"SENDER_BLOCKED: The sender or its technical user is blocked."
    assert told in _stderr_until(sftp, told)
    assert error_codes(log_rows(db, event="session", count=1)) == ["SENDER_BLOCKED"]


class _SlowTypist(asyncssh.SSHClient):
    """Asked for a password, takes longer than the login timeout to give one."""

    async def password_auth_requested(self) -> str:
        await asyncio.sleep(5)
        return "too late"


def test_a_client_that_does_not_log_in_in_time_is_told_why(harness, kit, monkeypatch):
    """asyncssh's own login timeout closed the connection without a word: the client only saw it lost."""
    monkeypatch.setattr(sftp_server, "LOGIN_TIMEOUT_S", 1)  # read when each connection starts

    async def run():
        with pytest.raises(asyncssh.DisconnectError, match=r"^LOGIN_TIMEOUT: not logged in within 1 s"):
            await asyncio.wait_for(_connect(harness.port, kit, key=False, client_factory=_SlowTypist,
                                            preferred_auth="password"), 4)

    asyncio.run(run())


@pytest.mark.parametrize("limits", [{"max_connections_per_address": 2}])
def test_connections_per_address_are_limited(harness, kit, db):
    async def run():
        first, second = await _connect(harness.port, kit), await _connect(harness.port, kit)
        reasons = []
        for _ in range(3):
            with pytest.raises(asyncssh.DisconnectError) as refused:
                await _connect(harness.port, kit)
            reasons.append(refused.value.reason)
        first.close()
        await first.wait_closed()
        await asyncio.sleep(0.2)
        third = await _connect(harness.port, kit)  # a place freed is a place again
        second.close()
        third.close()
        return reasons

    reasons = asyncio.run(run())
    assert all(r.startswith("TOO_MANY_CONNECTIONS: at most 2 ") for r in reasons), reasons
    time.sleep(0.3)
    rows = log_rows(db, event="connection", count=1)
    assert error_codes(rows) == ["TOO_MANY_CONNECTIONS"]  # one line for the burst of three refusals


# -- (9) password guessing -----------------------------------------------------------------------------------------
def test_password_tries_per_connection_are_limited(harness, kit, db):
    tried = []

    class Guesser(asyncssh.SSHClient):
        def password_auth_requested(self) -> str:  # asyncssh asks again after each refusal, on one connection
            tried.append(f"Wrong-Password-{len(tried)}")
            return tried[-1]

    async def guess():
        return await asyncssh.connect("127.0.0.1", harness.port, username=kit.technical_user, known_hosts=None,
                                      client_keys=None, client_factory=Guesser)

    with pytest.raises(asyncssh.DisconnectError) as ended:
        asyncio.run(guess())
    assert len(tried) == 3 and ended.value.reason.startswith("TOO_MANY_LOGIN_TRIES: 3 wrong passwords")
    assert error_codes(log_rows(db, event="login", count=4)) == ["LOGIN_FAILED"] * 3 + ["TOO_MANY_LOGIN_TRIES"]
    assert put(harness.port, kit, build(kit), password=kit.password) == []  # a new connection may log in


# -- issue 12.7: a blocked sender's sessions end on every protocol -------------------------------------------------
def test_blocking_a_sender_ends_its_open_sessions(harness, kit, db):
    async def run():
        async with await _connect(harness.port, kit) as conn:
            sftp = await conn.start_sftp_client()
            ftp = await asyncio.to_thread(tls_client, harness, kit)
            manager = gap(db, kit)
            with db.session() as session:
                senders.update(session, manager, kit.domain_id, SenderPatch(status="blocked"),
                               harness.services.passwords)
            started = time.monotonic()
            await asyncio.wait_for(conn.wait_closed(), 5)  # closed by the server
            await asyncio.to_thread(_until_closed, ftp, started + 5)
            del sftp

    asyncio.run(run())
    ended = log_rows(db, event="session", count=2)
    assert sorted(r.protocol for r in ended) == ["FTPS", "SFTP"] and set(error_codes(ended)) == {"SENDER_BLOCKED"}
    with pytest.raises(asyncssh.PermissionDenied):
        sftp_call(harness.port, kit, lambda sftp: sftp.listdir("/"), password=kit.password)
    with pytest.raises(ftplib.error_perm, match="530 LOGIN_FAILED"):
        tls_client(harness, kit)
    assert error_codes(log_rows(db, event="login"))[-2:] == ["SENDER_BLOCKED", "SENDER_BLOCKED"]


def _until_closed(ftp: ftplib.FTP_TLS, deadline: float) -> None:
    """The server ends the FTPS control connection, telling why: the next command gets its 421 with the code."""
    while time.monotonic() < deadline:
        try:
            ftp.voidcmd("NOOP")
        except ftplib.error_temp as told:
            ftp.close()
            assert str(told).startswith("421 SENDER_BLOCKED: "), told  # (it was cut without a word)
            return
        time.sleep(0.1)
    raise AssertionError("the FTPS session of the blocked sender is still open")


def test_half_received_uploads_stay_hidden_and_odd_paths_get_a_code(harness, kit, db):
    """The reservations and half files under .partial could be listed and stat'ed (names in progress, the
    instance's id); a NUL in a path came back as an uncaught exception; a path was echoed whole."""
    name = build(kit).files[0][1]

    async def probe(sftp):  # type: ignore[no-untyped-def]
        upload = await sftp.open(f"/INTEST/{name}", "wb")
        await upload.write(b"x" * 10, 0)
        seen = {}
        for label, call in {"list": lambda: sftp.listdir("/.partial"), "list2": lambda: sftp.listdir("//.partial"),
                            "via ..": lambda: sftp.listdir("/INTEST/../.partial"),
                            "stat": lambda: sftp.stat(f"/.partial/{name}"), "nul": lambda: sftp.stat(b"/OUT/a\0b"),
                            "statvfs": lambda: sftp.statvfs("/"), "long": lambda: sftp.open("/" + "A" * 5000, "wb")
                            }.items():
            try:
                seen[label] = await call()
            except asyncssh.SFTPError as exc:
                seen[label] = exc.reason
        seen["root"] = sorted(await sftp.listdir("/"))
        await upload.fsync()  # put -f: nothing to do before the close, and no failure either
        await upload.write(b"y" * 10, 10)
        await upload.close()
        return seen
    seen = sftp_call(harness.port, kit, probe)
    for label in ("list", "list2", "via ..", "stat", "nul"):
        assert seen[label].startswith("PATH_NOT_ALLOWED"), (label, seen[label])
    assert "statvfs is not offered" in seen["statvfs"]
    assert seen["long"].startswith("PATH_NOT_ALLOWED") and len(seen["long"]) < 400
    assert seen["root"] == [".", "..", "IN", "INTEST", "INTEST-S", "OUT", "OUTTEST", "OUTTEST-S"]
    assert (harness.home(kit) / "INTEST" / name).read_bytes() == b"x" * 10 + b"y" * 10


def test_a_missing_file_is_file_not_found_with_its_code(harness, kit):
    async def probe(sftp):  # type: ignore[no-untyped-def]
        try:
            await sftp.stat("/OUTTEST/FO.NOPE")
        except asyncssh.SFTPNoSuchFile as exc:
            return exc.reason
        return "found"
    assert sftp_call(harness.port, kit, probe).startswith("FILE_NOT_FOUND: ")
