"""A small PKI for tests: a CA, sender certificates (RSA and EC), signing with cryptography or openssl."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from keys.cms import sign_detached
from keys.issuing import Issued, issue, new_key

NOW = datetime.now(UTC)


def ca(name: str = "Test Root CA") -> Issued:
    return issue(name, ca=True, organization="Test PKI", not_after=NOW + timedelta(days=3650))


def sender(name: str = "EXPTEST sender", *, kind: str = "rsa", issuer: Issued | None = None,
           not_before: datetime | None = None, not_after: datetime | None = None,
           organization: str | None = None) -> Issued:
    return issue(name, issuer=issuer, key=new_key(kind), organization=organization, not_before=not_before,
                 not_after=not_after, eku=[ExtendedKeyUsageOID.CODE_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION])


def digest_of(content: bytes):  # type: ignore[no-untyped-def]
    return lambda name: hashlib.new(name, content).digest()


def sign(content: bytes, who: Issued, algorithm: hashes.HashAlgorithm | None = None) -> bytes:
    return sign_detached(content, who.certificate, who.key, algorithm)


def openssl_sign(content: bytes, who: Issued, folder: Path, *, digest: str = "sha256", extra: tuple = ()) -> bytes:
    """DER detached signature made by the `openssl cms -sign` command line."""
    (folder / "content").write_bytes(content)
    (folder / "signer.pem").write_bytes(who.cert_pem())
    (folder / "signer.key").write_bytes(who.key_pem())
    subprocess.run(["openssl", "cms", "-sign", "-binary", "-in", str(folder / "content"), "-signer",
                    str(folder / "signer.pem"), "-inkey", str(folder / "signer.key"), "-md", digest, "-outform",
                    "DER", "-out", str(folder / "sig.der"), *extra], check=True, capture_output=True)
    return (folder / "sig.der").read_bytes()


# -- certificates that must not sign (issue 12): each kind registered before the rule still verifies ---------------
def crl(issuer: Issued, revoked: Issued, signed_by: Issued | None = None) -> x509.CertificateRevocationList:
    """``issuer``'s CRL naming ``revoked`` (revoked half an hour ago), signed by ``signed_by`` (default: itself)."""
    return (x509.CertificateRevocationListBuilder().issuer_name(issuer.certificate.subject)
            .last_update(NOW - timedelta(hours=1)).next_update(NOW + timedelta(days=7))
            .add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(revoked.certificate.serial_number)
                                     .revocation_date(NOW - timedelta(minutes=30)).build())
            .sign((signed_by or issuer).key, hashes.SHA256()))


def weak(kind: str, issuer: Issued | None = None) -> Issued:
    """``rsa1024``: a short RSA key; ``encryption``: key usage keyEncipherment only; ``ca``: a CA certificate."""
    if kind == "rsa1024":
        return issue(f"weak {kind}", issuer=issuer, key=rsa.generate_private_key(65537, 1024))
    if kind == "ca":
        return issue(f"weak {kind}", issuer=issuer, ca=True)
    if kind == "encryption":
        return _with_key_usage(f"weak {kind}", x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=True, data_encipherment=True,
            key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False))
    raise ValueError(kind)


def _with_key_usage(name: str, usage: x509.KeyUsage) -> Issued:
    key = new_key("rsa")
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(NOW - timedelta(minutes=5))
                   .not_valid_after(NOW + timedelta(days=365))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(usage, critical=True).sign(key, hashes.SHA256()))
    return Issued(certificate, key)
