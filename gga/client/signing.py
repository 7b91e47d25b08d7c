"""The submission's names (contract section 4) and its FS (section 5); checking the gateway's FS on a return file."""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from keys.cms import sign_detached, verify_detached

SEQUENCE_ALPHABET = string.digits + string.ascii_uppercase


@dataclass(frozen=True)
class Names:
    """``PP.AAAA.SSSSSS.YYYYMMDD.NNNNN.E[.T[.n]]`` for a one-part submission."""

    application: str
    sender_number: str
    day: str
    sequence: str
    environment: str

    @property
    def base(self) -> str:
        return f"{self.application}.{self.sender_number}.{self.day}.{self.sequence}.{self.environment}"

    @property
    def fi(self) -> str:
        return f"FI.{self.base}.1.1"

    @property
    def fs(self) -> str:
        return f"FS.{self.base}.1.1"

    @property
    def go(self) -> str:
        return f"GO.{self.base}.1"


def fresh_sequence() -> str:
    """5 characters of 0-9A-Z, not all zeros; random, so a name is (almost surely) not used yet today."""
    while True:
        sequence = "".join(secrets.choice(SEQUENCE_ALPHABET) for _ in range(5))
        if sequence != "00000":
            return sequence


def names(application: str, sender_number: str, environment: str, sequence: str | None = None) -> Names:
    day = datetime.now(UTC).strftime("%Y%m%d")
    return Names(application.upper(), sender_number, day, sequence or fresh_sequence(), environment.upper())


def fs_content(fi: bytes, certificate_pem: bytes, key_pem: bytes) -> bytes:
    """Base64 of a detached DER CMS SignedData over the FI's exact bytes (SHA-256), wrapped at 76 with CRLF."""
    certificate = x509.load_pem_x509_certificate(certificate_pem)
    key = serialization.load_pem_private_key(key_pem, password=None)
    der = sign_detached(fi, certificate, key)  # type: ignore[arg-type]  # RSA or EC: what the gateway accepts
    encoded = base64.b64encode(der)
    return b"\r\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76)) + b"\r\n"


def verify(content: bytes, fs: bytes, gateway_certificate_pem: bytes) -> None:
    """Raise unless ``fs`` is the gateway's signature over ``content`` (keys.cms's GGAError says why)."""
    certificate = x509.load_pem_x509_certificate(gateway_certificate_pem)
    verify_detached(fs, lambda name: hashlib.new(name, content).digest(), [certificate], at=datetime.now(UTC))
