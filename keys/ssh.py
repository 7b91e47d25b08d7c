"""SSH keys: technical users' OpenSSH public keys, and the gateway's host keys (generated once, reused)."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa

from kernel.errors import ErrorCode, GGAError
from keys.files import key_lock, write_private, write_public

MIN_RSA_BITS = 2048


@dataclass(frozen=True)
class SSHPublicKey:
    algorithm: str  # ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa...
    bits: int
    fingerprint: str  # SHA256:... as `ssh-keygen -l` prints it
    openssh: str  # "<algorithm> <base64>" without the comment
    comment: str


def fingerprint(blob: bytes) -> str:
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def parse_public_key(text: str) -> SSHPublicKey:
    """One OpenSSH public key line: ed25519, ecdsa or RSA of at least 2048 bits."""
    parts = text.strip().split(None, 2)
    if len(parts) < 2:
        raise GGAError(ErrorCode.SSH_KEY_INVALID, "Expected '<type> <base64> [comment]' (an OpenSSH .pub line).")
    try:
        key = serialization.load_ssh_public_key(f"{parts[0]} {parts[1]}".encode())
        blob = base64.b64decode(parts[1], validate=True)
    except (ValueError, TypeError, UnsupportedAlgorithm, binascii.Error) as exc:
        raise GGAError(ErrorCode.SSH_KEY_INVALID, f"Unreadable SSH public key: {exc}") from exc
    if isinstance(key, dsa.DSAPublicKey):
        raise GGAError(ErrorCode.SSH_KEY_TOO_WEAK, "DSA keys are refused; use ed25519, ecdsa or RSA >= 2048.")
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        raise GGAError(ErrorCode.SSH_KEY_TOO_WEAK, f"RSA key of {key.key_size} bits; at least {MIN_RSA_BITS}.")
    if isinstance(key, ed25519.Ed25519PublicKey):
        bits = 256
    elif isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        bits = key.key_size
    else:
        raise GGAError(ErrorCode.SSH_KEY_INVALID, f"Unsupported key type {parts[0]}.")
    return SSHPublicKey(parts[0], bits, fingerprint(blob), f"{parts[0]} {parts[1]}",
                        parts[2].strip() if len(parts) > 2 else "")


def ensure_host_keys(data_dir: Path) -> list[Path]:
    """Ed25519 and RSA host keys under ``<data>/keys``: made on first start, reused after."""
    folder = data_dir / "keys"
    made = []
    with key_lock(folder):
        for name, factory in (("ssh_host_ed25519_key", ed25519.Ed25519PrivateKey.generate),
                              ("ssh_host_rsa_key", lambda: rsa.generate_private_key(65537, 3072))):
            path = folder / name
            if not path.exists():
                key = factory()
                write_private(path, key.private_bytes(serialization.Encoding.PEM,
                                                      serialization.PrivateFormat.OpenSSH,
                                                      serialization.NoEncryption()))
                write_public(path.with_suffix(".pub"), key.public_key().public_bytes(
                    serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH) + b"\n")
            made.append(path)
    return made
