"""Issue 12.14: what an outside audit of the SFTP port finds. ``ssh-audit`` (PyPI, in the test extras) against the
gateway's real listener: no [fail] line with the default settings; the legacy algorithms only on request. And the
clients the senders use still connect with what is offered."""

import shutil
import subprocess
import sys
from pathlib import Path

import paramiko
import pytest

from tests.gateway.harness import GatewayHarness, build, put
from tests.gateway.test_sftp_auth import _openssh_login


def ssh_audit() -> str:
    beside = Path(sys.executable).parent / "ssh-audit"
    found = str(beside) if beside.exists() else shutil.which("ssh-audit")
    if found is None:
        pytest.fail("ssh-audit is not installed (pip install -e .[test])")
    return found


def audit(port: int) -> list[str]:
    result = subprocess.run([ssh_audit(), "-n", "--skip-rate-test", "-t", "10", "-p", str(port), "127.0.0.1"],
                            capture_output=True, text=True, timeout=120)
    lines = result.stdout.splitlines()
    assert any(line.startswith("(kex) ") for line in lines), result.stdout + result.stderr  # it did audit
    return lines


@pytest.fixture
def legacy_harness(services):
    running = GatewayHarness(services)
    running.settings = running.settings.model_copy(update={"legacy_algorithms": True})
    running.start()
    yield running
    running.stop()


def test_ssh_audit_finds_no_failure(harness):
    lines = audit(harness.port)
    assert [line for line in lines if "[fail]" in line] == []
    warnings = [line for line in lines if "[warn]" in line]
    # OpenSSH 9.2's default sshd: 3 fail / 12 warn (Debian's ssh-audit), 6 fail / 18 warn (ssh-audit 3.9)
    assert len(warnings) < 12, warnings
    offered = " ".join(lines)
    for legacy in ("ssh-rsa ", "hmac-sha1", "group14-sha1", "group-exchange", "umac-64", "nistp"):
        assert legacy not in offered, legacy


def test_legacy_algorithms_only_on_request(legacy_harness):
    offered = " ".join(audit(legacy_harness.port))
    assert "(key) ssh-rsa " in offered and "hmac-sha1" in offered and "diffie-hellman-group14-sha1" in offered


def test_openssh_paramiko_and_asyncssh_clients_connect(harness, kit):
    assert _openssh_login(harness.port, kit.technical_user, kit.ssh_key_path, "ssh-ed25519")
    transport = paramiko.Transport(("127.0.0.1", harness.port))
    try:
        transport.connect(username=kit.technical_user, password=kit.password)
        sftp = paramiko.SFTPClient.from_transport(transport)
        assert sorted(sftp.listdir("/")) == ["IN", "INTEST", "INTEST-S", "OUT", "OUTTEST", "OUTTEST-S"]
        sftp.close()
    finally:
        transport.close()
    assert put(harness.port, kit, build(kit)) == []
