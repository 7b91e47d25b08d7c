"""X.509 certificates as senders upload them (.cer as PEM, DER or base64 DER) and as the guide shows them."""

from __future__ import annotations

import base64
import binascii
import functools
import re
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from kernel.errors import ErrorCode, GGAError

_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def load_certificate(data: bytes | str) -> x509.Certificate:
    """PEM, raw DER or base64 of DER (any line wrapping); anything else is CERTIFICATE_MALFORMED."""
    raw = data.encode() if isinstance(data, str) else data
    try:
        match = _PEM.search(raw)
        if match:
            return x509.load_pem_x509_certificate(match.group(0))
        if raw[:1] == b"\x30":
            return x509.load_der_x509_certificate(raw)
        return x509.load_der_x509_certificate(base64.b64decode(b"".join(raw.split()), validate=True))
    except (ValueError, binascii.Error, TypeError) as exc:
        raise GGAError(ErrorCode.CERTIFICATE_MALFORMED, f"Not a readable X.509 certificate: {exc}") from exc


@functools.lru_cache(maxsize=4096)
def stored_certificate(text: str) -> x509.Certificate:
    """A certificate the product stored itself (PEM): it never changes, so it is parsed once per process."""
    return load_certificate(text)


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate of a PEM bundle (trust stores)."""
    return x509.load_pem_x509_certificates(data)


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


@dataclass(frozen=True)
class CertificateInfo:
    """What the guide's confirmation screen shows of a certificate, plus its SHA-256 fingerprint."""

    owner: str
    company: str
    issuer: str
    expires: datetime
    not_before: datetime
    serial_decimal: str
    serial_hex: str
    fingerprint_sha256: str

    def as_json(self) -> dict[str, str]:
        return {"owner": self.owner, "company": self.company, "issuer": self.issuer,
                "expires": self.expires.isoformat(), "not_before": self.not_before.isoformat(),
                "serial_decimal": self.serial_decimal, "serial_hex": self.serial_hex,
                "fingerprint_sha256": self.fingerprint_sha256}


def describe(cert: x509.Certificate) -> CertificateInfo:
    serial_hex = format(cert.serial_number, "x")
    serial_hex = ("0" * (len(serial_hex) % 2) + serial_hex).upper()
    return CertificateInfo(
        owner=_attribute(cert.subject, NameOID.COMMON_NAME) or cert.subject.rfc4514_string(),
        company=_attribute(cert.subject, NameOID.ORGANIZATION_NAME) or "Not specified",
        issuer=_attribute(cert.issuer, NameOID.COMMON_NAME) or cert.issuer.rfc4514_string(),
        expires=cert.not_valid_after_utc, not_before=cert.not_valid_before_utc,
        serial_decimal=str(cert.serial_number), serial_hex=serial_hex, fingerprint_sha256=fingerprint(cert))
