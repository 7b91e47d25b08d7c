"""Logins: SSH key or password, blocked senders, unknown users, legacy ssh-rsa clients; every attempt logged."""

import asyncio
import subprocess
import time

import asyncssh
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from admin_api.identity import Caller
from admin_api.sender import service as senders
from admin_api.sender.schemas import ChannelPatch, SenderPatch
from store.models import TransferEvent
from tests.gateway.harness import build, openssh_sftp, put


def logins(db):
    with db.session() as session:
        return [(e.result, e.error_code, e.technical_user, e.details.get("method") if e.details else None)
                for e in session.scalars(select(TransferEvent).where(TransferEvent.event == "login")
                                         .order_by(TransferEvent.id))]


def can_login(port, user, password=None, key=None) -> bool:
    async def run():
        options = {"known_hosts": None, "username": user, "client_keys": [key] if key else None}
        if password:
            options["password"] = password
        try:
            async with await asyncssh.connect("127.0.0.1", port, **options):
                return True
        except (asyncssh.PermissionDenied, asyncssh.DisconnectError):
            return False
    return asyncio.run(run())


def gap_of(db, domain_id):
    from store.models import Domain, Enterprise

    with db.read() as session:  # called inside a write transaction: a read of its own
        return session.get(Enterprise, session.get(Domain, domain_id).enterprise_number).main_manager_niss


def test_password_and_key_logins_are_logged(harness, kit, db):
    assert can_login(harness.port, kit.technical_user, password=kit.password)
    assert can_login(harness.port, kit.technical_user.upper(), password=kit.password)  # names are case-blind
    assert not can_login(harness.port, kit.technical_user, password="Wrong-Password-1")
    assert not can_login(harness.port, "EXPnobody", password=kit.password)
    assert put(harness.port, kit, build(kit)) == []  # key login
    rows = logins(db)
    assert rows[0][:2] == ("ok", None) and rows[0][3] == "password"
    assert ("refused", "LOGIN_FAILED", kit.technical_user, "password") in rows
    assert ("refused", "LOGIN_FAILED", "EXPnobody", "password") in rows
    assert rows[-1][0] == "ok" and rows[-1][3] == "publickey"
    # a refused login of a known user names its sender (the log's sender filter found none); an unknown one none
    with db.session() as session:
        numbers = {(e.technical_user, e.error_code): e.sender_number for e in session.scalars(
            select(TransferEvent).where(TransferEvent.event == "login", TransferEvent.result == "refused"))}
    assert numbers == {(kit.technical_user, "LOGIN_FAILED"): kit.number, ("EXPnobody", "LOGIN_FAILED"): None}


def test_an_unregistered_key_is_refused(harness, kit, db):
    other = asyncssh.generate_private_key("ssh-ed25519")
    assert not can_login(harness.port, kit.technical_user, key=other)
    deadline = time.monotonic() + 5  # written when the connection ends
    while ("refused", "LOGIN_FAILED", kit.technical_user, "publickey") not in logins(db):
        assert time.monotonic() < deadline, logins(db)
        time.sleep(0.05)


def test_blocking_stops_new_logins_at_once(harness, kit, db):
    gap = Caller(gap_of(db, kit.domain_id), "eid")
    with db.session() as session:
        senders.update(session, gap, kit.domain_id, SenderPatch(technical_user_status="blocked"),
                       harness.services.passwords)
    assert not can_login(harness.port, kit.technical_user, password=kit.password)
    assert ("refused", "SENDER_BLOCKED", kit.technical_user, "password") in logins(db)
    with db.session() as session:
        assert session.scalar(select(TransferEvent.sender_number).where(
            TransferEvent.error_code == "SENDER_BLOCKED")) == kit.number
    with db.session() as session:
        senders.update(session, gap, kit.domain_id, SenderPatch(technical_user_status="active", status="blocked"),
                       harness.services.passwords)
    assert not can_login(harness.port, kit.technical_user, password=kit.password)
    with db.session() as session:
        senders.update(session, gap, kit.domain_id, SenderPatch(status="active"), harness.services.passwords)
    assert can_login(harness.port, kit.technical_user, password=kit.password)


def test_unknown_users_cost_a_password_check_too(harness, kit, monkeypatch):
    calls = []
    real = harness.services.passwords.hasher

    class Recording:
        def verify(self, stored, password):
            calls.append(stored)
            return real.verify(stored, password)

    monkeypatch.setattr(harness.services.passwords, "hasher", Recording())
    assert not can_login(harness.port, "EXPghost99", password="Whatever-123")
    assert calls == [harness.services.passwords._dummy]  # an argon2 check ran for a nobody, as for a sender


def _openssh_login(port, user, key_path, algorithms) -> bool:
    """OpenSSH's sftp signing with exactly ``algorithms`` (ssh-rsa = the legacy SHA-1 signature)."""
    command = openssh_sftp(port, user, key_path, f"PubkeyAcceptedAlgorithms={algorithms}", "IdentitiesOnly=yes")
    result = subprocess.run(command, input="ls\n", text=True, capture_output=True, timeout=60)
    return result.returncode == 0


@pytest.mark.parametrize("allowed", [False, True])
def test_legacy_ssh_rsa_clients_only_when_configured(harness, kit, db, allowed, tmp_path):
    key = rsa.generate_private_key(65537, 2048)
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    key_path = tmp_path / "id_rsa"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    with db.session() as session:
        senders.update_channel(session, Caller(gap_of(db, kit.domain_id), "eid"), kit.domain_id, "SFTP",
                               ChannelPatch(ssh_public_key=public.decode()))
    harness.gateway.settings.sftp_allow_ssh_rsa = allowed
    assert _openssh_login(harness.port, kit.technical_user, key_path, "ssh-rsa") is allowed
    # a current client with the same key (rsa-sha2-256) is always welcome
    assert _openssh_login(harness.port, kit.technical_user, key_path, "rsa-sha2-256")


def test_password_hash_is_renewed_when_argon2_parameters_change(harness, kit, db, monkeypatch):
    from keys.passwords import Passwords
    from store.models import Sender

    with db.session() as session:
        old = session.get(Sender, harness.gateway.directory.by_number(kit.number).id).password_hash
    stronger = Passwords(time_cost=2, memory_cost=2048, parallelism=1)
    monkeypatch.setattr(harness.gateway.auth, "passwords", stronger)
    assert can_login(harness.port, kit.technical_user, password=kit.password)
    with db.session() as session:
        new = session.get(Sender, harness.gateway.directory.by_number(kit.number).id).password_hash
    assert new != old and not stronger.needs_rehash(new) and stronger.verify(new, kit.password)
    assert can_login(harness.port, kit.technical_user, password=kit.password)
