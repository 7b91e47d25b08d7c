import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa

from kernel.errors import ErrorCode, GGAError
from keys.ssh import ensure_host_keys, parse_public_key


def openssh(key) -> str:
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


@pytest.mark.parametrize(("key", "algorithm", "bits"), [
    (ed25519.Ed25519PrivateKey.generate(), "ssh-ed25519", 256),
    (ec.generate_private_key(ec.SECP256R1()), "ecdsa-sha2-nistp256", 256),
    (ec.generate_private_key(ec.SECP384R1()), "ecdsa-sha2-nistp384", 384),
    (rsa.generate_private_key(65537, 2048), "ssh-rsa", 2048),
])
def test_accepted_keys_with_the_fingerprint_ssh_keygen_prints(tmp_path, key, algorithm, bits):
    line = openssh(key) + " payroll@server"
    parsed = parse_public_key(line)
    assert (parsed.algorithm, parsed.bits, parsed.comment) == (algorithm, bits, "payroll@server")
    (tmp_path / "k.pub").write_text(line + "\n")
    keygen = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(tmp_path / "k.pub")],
                            capture_output=True, text=True, check=True).stdout
    assert parsed.fingerprint == keygen.split()[1]


def test_weak_and_malformed_keys_are_refused():
    with pytest.raises(GGAError) as err:
        parse_public_key(openssh(rsa.generate_private_key(65537, 1024)))
    assert err.value.code == ErrorCode.SSH_KEY_TOO_WEAK and "1024" in err.value.message
    with pytest.raises(GGAError) as err:
        parse_public_key(openssh(dsa.generate_private_key(1024)))
    assert err.value.code == ErrorCode.SSH_KEY_TOO_WEAK
    for bad in ("", "ssh-ed25519", "ssh-ed25519 AAAA!!!", "-----BEGIN PUBLIC KEY-----"):
        with pytest.raises(GGAError) as err:
            parse_public_key(bad)
        assert err.value.code == ErrorCode.SSH_KEY_INVALID


def test_host_keys_are_made_once_and_reused(tmp_path):
    first = ensure_host_keys(tmp_path)
    contents = [p.read_bytes() for p in first]
    assert [p.name for p in first] == ["ssh_host_ed25519_key", "ssh_host_rsa_key"]
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in first)
    assert [p.read_bytes() for p in ensure_host_keys(tmp_path)] == contents
