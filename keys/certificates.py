"""X.509 certificates as senders upload them (.cer as PEM, DER or base64 DER) and as the guide shows them."""

from __future__ import annotations

import base64
import binascii
import functools
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

from kernel.errors import ErrorCode, GGAError

_BEGIN, _END = b"-----BEGIN CERTIFICATE-----", b"-----END CERTIFICATE-----"
MIN_RSA_BITS = 2048
MIN_EC_BITS = 256  # P-256
_Ext = TypeVar("_Ext", bound=x509.ExtensionType)


def _pem_block(raw: bytes) -> bytes | None:
    """The first BEGIN..END CERTIFICATE block, found with two linear searches (a lazy regular expression retried
    from every BEGIN was quadratic on BEGIN lines without END)."""
    begin = raw.find(_BEGIN)
    if begin < 0:
        return None
    end = raw.find(_END, begin + len(_BEGIN) + 1)  # at least one byte between the markers, as before
    return None if end < 0 else raw[begin:end + len(_END)]


def load_certificate(data: bytes | str) -> x509.Certificate:
    """PEM, raw DER or base64 of DER (any line wrapping), read whole; anything else is CERTIFICATE_MALFORMED."""
    cert = _load(data)
    try:  # cryptography reads names, extensions and the key only when asked: a fault there surfaces now, not later
        cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(), cert.extensions, cert.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise GGAError(ErrorCode.CERTIFICATE_MALFORMED, f"Not a readable X.509 certificate: {exc}") from exc
    return cert


def _load(data: bytes | str) -> x509.Certificate:
    raw = data.encode() if isinstance(data, str) else data
    try:
        block = _pem_block(raw)
        if block is not None:
            return x509.load_pem_x509_certificate(block)
        if raw[:1] == b"\x30":
            return x509.load_der_x509_certificate(raw)
        return x509.load_der_x509_certificate(base64.b64decode(b"".join(raw.split()), validate=True))
    except (ValueError, binascii.Error, TypeError, x509.InvalidVersion) as exc:  # InvalidVersion: not a ValueError
        raise GGAError(ErrorCode.CERTIFICATE_MALFORMED, f"Not a readable X.509 certificate: {exc}") from exc


@functools.lru_cache(maxsize=4096)
def stored_certificate(text: str) -> x509.Certificate:
    """A certificate the product stored itself (PEM): it never changes, so it is parsed once per process (and not
    read whole again: one registered before that rule must keep working)."""
    return _load(text)


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate of a PEM bundle (trust stores)."""
    return x509.load_pem_x509_certificates(data)


def weaknesses(cert: x509.Certificate) -> list[str]:
    """Why the certificate cannot be a signer (empty when it can): a key under RSA 2048 or EC P-256, a key usage
    without digitalSignature or nonRepudiation, a CA certificate."""
    try:
        return _key_weaknesses(cert) + _usage_weaknesses(cert)
    except (ValueError, UnsupportedAlgorithm) as exc:  # extensions and keys are parsed lazily
        return [f"unreadable key or extensions ({exc})"]


def _key_weaknesses(cert: x509.Certificate) -> list[str]:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return [f"RSA key of {key.key_size} bits (at least {MIN_RSA_BITS})"] if key.key_size < MIN_RSA_BITS else []
    if isinstance(key, ec.EllipticCurvePublicKey):
        return [f"EC key on {key.curve.name} (at least P-256)"] if key.curve.key_size < MIN_EC_BITS else []
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return []
    return [f"{type(key).__name__.removeprefix('_')} keys do not sign files (RSA, EC or EdDSA)"]


def _usage_weaknesses(cert: x509.Certificate) -> list[str]:
    found = []
    usage = _extension(cert, x509.KeyUsage)
    if usage is not None and not (usage.digital_signature or usage.content_commitment):
        found.append("key usage allows neither digitalSignature nor nonRepudiation")
    constraints = _extension(cert, x509.BasicConstraints)
    if constraints is not None and constraints.ca:
        found.append("a CA certificate (basic constraints CA=true)")
    return found


def _extension(cert: x509.Certificate, kind: type[_Ext]) -> _Ext | None:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def expired(cert: x509.Certificate, at: datetime) -> bool:
    """Past its validity at ``at``: it can sign nothing the gateway accepts from then on (contract, section 5)."""
    return cert.not_valid_after_utc <= at


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
