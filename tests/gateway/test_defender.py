"""The defender and the session caps over the real protocols: failed SFTP logins ban the address on SFTP, FTP and
the web service; ops list and lift the ban; an allow-listed or other address is not hit; a ban survives a restart;
at most GGA_MAX_SESSIONS_PER_SENDER sessions per technical user."""

from __future__ import annotations

import asyncio
import ftplib
import time
from datetime import timedelta

import asyncssh
import httpx
import pytest
from sqlalchemy import func, select, update

from gateway.core.session import GatewaySession
from kernel.clock import as_utc, utcnow
from kernel.errors import ErrorCode, GGAError
from store.models import LiveSession
from tests.gateway.harness import GatewayHarness, error_codes, log_rows, sftp_call
from tests.gateway.test_ftp import tls_client
from tests.gateway.test_webservice import assertion, token_call


def guess(port: int, user: str, tries: int, source: str = "127.0.0.1") -> tuple[int, str]:
    """Wrong passwords over as many connections as it takes (3 per connection): (passwords sent, last reason)."""
    sent: list[str] = []

    class Guesser(asyncssh.SSHClient):
        def password_auth_requested(self) -> str | None:
            if len(sent) >= tries:
                return None
            sent.append(f"Wrong-Password-{len(sent)}")
            return sent[-1]

    async def one() -> str:
        try:
            await asyncssh.connect("127.0.0.1", port, username=user, known_hosts=None, client_keys=None,
                                   client_factory=Guesser, local_addr=(source, 0))
        except asyncssh.DisconnectError as err:
            return err.reason
        except asyncssh.PermissionDenied:
            return "PermissionDenied"
        return "logged in"

    reason = ""
    while len(sent) < tries and not reason.startswith("ADDRESS_BANNED"):
        reason = asyncio.run(one())
    return len(sent), reason


def sftp_login(harness: GatewayHarness, kit, source: str = "127.0.0.1") -> str:  # type: ignore[no-untyped-def]
    """Log in with the right password: "ok" or the disconnect reason."""
    async def run() -> str:
        try:
            async with await asyncssh.connect("127.0.0.1", harness.port, username=kit.technical_user,
                                              password=kit.password, client_keys=None, known_hosts=None,
                                              local_addr=(source, 0)) as conn, conn.start_sftp_client() as sftp:
                await sftp.listdir("/")
                return "ok"
        except asyncssh.DisconnectError as err:
            return err.reason

    return asyncio.run(run())


def ops_client(harness: GatewayHarness, auth) -> httpx.Client:  # type: ignore[no-untyped-def]
    """The ops role, calling from 127.0.0.2 (not the banned address)."""
    from tests import factories

    return httpx.Client(base_url=harness.http_url + "/api/v1", timeout=10,
                        headers=auth(factories.niss(1955, 5, 5, 5), roles=["ops"]),
                        transport=httpx.HTTPTransport(local_address="127.0.0.2"))


def test_failed_sftp_logins_ban_the_address_everywhere_until_lifted(harness, kit, db, auth):
    sent, reason = guess(harness.port, kit.technical_user, 12)
    assert reason.startswith("ADDRESS_BANNED"), reason
    assert sent <= 12
    assert error_codes(log_rows(db, event="login")).count("LOGIN_FAILED") == 10  # GGA_DEFENDER_MAX_FAILURES
    assert [(r.protocol, r.remote_address.rsplit(":", 1)[0]) for r in log_rows(db, event="ban")] == [
        ("SFTP", "127.0.0.1")]

    # refused on every protocol, the right password included
    assert sftp_login(harness, kit).startswith("ADDRESS_BANNED")
    with pytest.raises(ftplib.error_temp, match="421 ADDRESS_BANNED"):
        tls_client(harness, kit)
    response = token_call(harness, assertion(harness, kit))
    assert response.status_code == 403 and response.json()["error"]["code"] == "ADDRESS_BANNED"
    # another address is not hit
    assert sftp_login(harness, kit, source="127.0.0.2") == "ok"

    with ops_client(harness, auth) as ops:
        bans = ops.get("/defender/bans").json()["items"]
        assert [b["address"] for b in bans] == ["127.0.0.1"]
        assert ops.delete("/defender/bans/127.0.0.1").status_code == 204
        assert ops.get("/defender/bans").json()["items"] == []
        assert ops.delete("/defender/bans/127.0.0.1").status_code == 404
    assert sftp_login(harness, kit) == "ok"
    tls_client(harness, kit).quit()
    assert token_call(harness, assertion(harness, kit)).status_code == 200


@pytest.mark.parametrize("limits", [{"defender_max_failures": 3, "defender_allow": "10.0.0.0/8, 127.0.0.0/8"}])
def test_an_allow_listed_network_is_never_banned(harness, kit, db):
    sent, reason = guess(harness.port, kit.technical_user, 9)
    assert sent == 9 and reason.startswith("TOO_MANY_LOGIN_TRIES")
    assert log_rows(db, event="ban") == []
    assert sftp_login(harness, kit) == "ok"


@pytest.mark.parametrize("limits", [{"defender_max_failures": 3}])
def test_a_ban_survives_a_restart_and_holds_on_every_instance(harness, kit, db, services):
    sent, reason = guess(harness.port, kit.technical_user, 6)
    assert sent == 3 and reason.startswith(("ADDRESS_BANNED", "TOO_MANY_LOGIN_TRIES"))
    assert sftp_login(harness, kit).startswith("ADDRESS_BANNED")

    other = GatewayHarness(services)  # a second instance on the same database
    other.settings = harness.settings.model_copy(update={"instance_id": "other"})
    other.start()
    try:
        assert sftp_login(other, kit).startswith("ADDRESS_BANNED")
    finally:
        other.stop()

    harness.stop()  # a restart of the first
    harness.start()
    assert sftp_login(harness, kit).startswith("ADDRESS_BANNED")
    with pytest.raises(ftplib.error_temp, match="421 ADDRESS_BANNED"):
        tls_client(harness, kit)


def _open_rows(db) -> int:  # type: ignore[no-untyped-def]
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(LiveSession)) or 0


@pytest.mark.parametrize("limits", [{"max_sessions_per_sender": 2}])
def test_sessions_per_sender_are_capped_across_protocols(harness, kit, db):
    async def run() -> None:
        from tests.gateway.harness import _connect

        first = await _connect(harness.port, kit)
        ftp = await asyncio.to_thread(tls_client, harness, kit)
        deadline = time.monotonic() + 5  # a key login's row is written just after the login completes
        while _open_rows(db) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert _open_rows(db) == 2
        with pytest.raises(asyncssh.DisconnectError, match="TOO_MANY_SESSIONS"):
            await _connect(harness.port, kit)  # by key
        with pytest.raises(asyncssh.DisconnectError, match="TOO_MANY_SESSIONS"):
            await _connect(harness.port, kit, password=kit.password)
        with pytest.raises(ftplib.error_perm, match="530 TOO_MANY_SESSIONS"):
            await asyncio.to_thread(tls_client, harness, kit)
        first.close()
        await first.wait_closed()
        deadline = time.monotonic() + 5
        while _open_rows(db) > 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert await asyncio.to_thread(sftp_call, harness.port, kit, lambda sftp: sftp.listdir("/")) is not None
        await asyncio.to_thread(ftp.quit)

    asyncio.run(run())
    refused = log_rows(db, event="session")
    assert error_codes(refused) == ["TOO_MANY_SESSIONS"] * 3
    assert sorted(r.protocol for r in refused) == ["FTPS", "SFTP", "SFTP"]
    # the right key, refused for the cap, is no failed login: ten of them banned a busy sender's address
    assert [r for r in log_rows(db, event="login") if r.result == "refused"] == []
    deadline = time.monotonic() + 5
    while _open_rows(db) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _open_rows(db) == 0  # every session's row is gone with it


def test_a_public_key_offered_without_its_signature_claims_no_session(harness, kit, db, monkeypatch):
    """A public key is no secret: offered (the SSH query step, many at once) by someone without the private key, it
    claimed session rows that outlived the connection, and 20 of them locked the sender out of SFTP and FTP until a
    restart."""
    import asyncssh.auth
    from asyncssh.packet import Boolean, String
    from cryptography.hazmat.primitives import serialization

    key = asyncssh.import_private_key(kit.ssh_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()))
    [pair] = asyncssh.load_keypairs([key])

    async def no_private_key(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("only the public key")
    pair.sign_async = no_private_key  # type: ignore[method-assign]

    async def queries(self):  # type: ignore[no-untyped-def]  # several key queries at once, no signature
        self._keypair = await self._conn.public_key_auth_requested()
        if self._keypair is None:
            self._conn.try_next_auth(next_method=True)
            return
        for _ in range(8):
            await self.send_request(Boolean(False), String(self._keypair.algorithm),
                                    String(self._keypair.public_data))
    monkeypatch.setattr(asyncssh.auth._ClientPublicKeyAuth, "_start", queries)

    class Attacker(asyncssh.SSHClient):
        offered = False

        def public_key_auth_requested(self):  # type: ignore[no-untyped-def]
            if self.offered:
                return None
            self.offered = True
            return pair

    async def attempt() -> None:
        with pytest.raises((asyncssh.Error, OSError)):
            await asyncio.wait_for(asyncssh.connect("127.0.0.1", harness.port, username=kit.technical_user,
                                                    known_hosts=None, client_factory=Attacker, client_keys=None), 10)

    for _ in range(3):
        asyncio.run(attempt())
    deadline = time.monotonic() + 5
    while _open_rows(db) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _open_rows(db) == 0
    monkeypatch.undo()
    assert asyncio.run(asyncio.to_thread(sftp_call, harness.port, kit, lambda sftp: sftp.listdir("/"))) is not None


def test_a_session_whose_channel_is_removed_is_ended_as_a_blocked_sender_s_is(harness, kit, db):
    """It could go on reading and deleting that channel's return files until it disconnected."""
    from sqlalchemy import delete

    from store.models import SenderChannel

    async def run() -> None:
        from tests.gateway.harness import _connect

        conn = await _connect(harness.port, kit)
        deadline = time.monotonic() + 5
        while _open_rows(db) < 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        sender_id = harness.gateway.directory.by_number(kit.number).id
        with db.session() as session:  # the SFTP channel removed
            session.execute(delete(SenderChannel).where(SenderChannel.sender_id == sender_id,
                                                        SenderChannel.type == "SFTP"))
        assert await asyncio.to_thread(harness.gateway.live.end_blocked) == 1  # the watch's round
        await asyncio.wait_for(conn.wait_closed(), 10)

    asyncio.run(run())
    assert error_codes(log_rows(db, event="session")) == ["CHANNEL_NOT_REGISTERED"]


@pytest.mark.parametrize("limits", [{"max_sessions_per_sender": 2}])
def test_sessions_a_crashed_instance_left_stop_counting_against_the_cap(harness, kit, db):
    """Another instance died with two of this sender's sessions and stays down: its rows filled the cap on every
    other instance until it came back. Rows no instance vouched for lately no longer count (and are cleared); a
    live instance's rows are vouched for each watch round and still count."""
    sender_id = harness.gateway.directory.by_number(kit.number).id
    stale = utcnow() - timedelta(hours=1)
    with db.session() as session:
        for _ in range(2):
            session.add(LiveSession(sender_id=sender_id, instance="crashed-host-8022", protocol="SFTP",
                                    remote_address="127.0.0.9:1", started_at=stale, seen_at=stale))
    assert sftp_call(harness.port, kit, lambda sftp: sftp.listdir("/")) is not None  # not TOO_MANY_SESSIONS
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(LiveSession).where(
            LiveSession.instance == "crashed-host-8022")) == 0
    live = harness.gateway.live
    with db.session() as session:  # two open elsewhere, vouched for just now: the cap holds
        for _ in range(2):
            session.add(LiveSession(sender_id=sender_id, instance="other-host-8022", protocol="SFTP",
                                    remote_address="127.0.0.9:2", seen_at=utcnow()))
    with pytest.raises(GGAError) as refused:
        live.refuse_if_full(GatewaySession(harness.gateway.directory.by_number(kit.number), "SFTP", "SFTP",
                                           "127.0.0.1:1", harness.home(kit)))
    assert refused.value.code == ErrorCode.TOO_MANY_SESSIONS


def test_the_session_watch_vouches_for_this_instances_rows(harness, kit, db):
    async def run() -> None:
        from tests.gateway.harness import _connect

        conn = await _connect(harness.port, kit)
        try:
            deadline = time.monotonic() + 5
            while _open_rows(db) < 1 and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            with db.session() as session:
                session.execute(update(LiveSession).values(seen_at=utcnow() - timedelta(hours=1)))
            await asyncio.to_thread(harness.gateway.live.vouch)
            with db.read() as session:
                seen = session.scalars(select(LiveSession.seen_at)).all()
            assert len(seen) == 1 and as_utc(seen[0]) > utcnow() - timedelta(minutes=1)
        finally:
            conn.close()
            await conn.wait_closed()

    asyncio.run(run())
