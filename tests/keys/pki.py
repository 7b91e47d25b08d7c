"""A small PKI for tests: a CA, sender certificates (RSA and EC), signing with cryptography or openssl."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID

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
