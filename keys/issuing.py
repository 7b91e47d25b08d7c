"""Making keys and certificates: the gateway's own signing and TLS certificates, the demo sender's, test PKIs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from keys.files import key_lock, write_private, write_public

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def new_key(kind: str = "rsa") -> PrivateKey:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(f"key kind {kind}")


@dataclass
class Issued:
    certificate: x509.Certificate
    key: PrivateKey

    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())


def issue(common_name: str, *, issuer: Issued | None = None, key: PrivateKey | None = None,
          organization: str | None = None, ca: bool = False, not_before: datetime | None = None,
          not_after: datetime | None = None, eku: list[x509.ObjectIdentifier] | None = None,
          dns_names: list[str] | None = None, hash_algorithm: hashes.HashAlgorithm | None = None) -> Issued:
    """A certificate for ``common_name``: self-signed unless ``issuer`` is given."""
    key = key or new_key()
    now = datetime.now(UTC)
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    subject = x509.Name(attrs)
    signer_key = issuer.key if issuer else key
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(issuer.certificate.subject if issuer else subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before or now - timedelta(minutes=5))
               .not_valid_after(not_after or now + timedelta(days=730))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True)
    else:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=True, key_encipherment=isinstance(key, rsa.RSAPrivateKey),
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    if dns_names:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]),
                                        critical=False)
    certificate = builder.sign(signer_key, hash_algorithm or hashes.SHA256())
    return Issued(certificate, key)


def load_or_issue(cert_path: Path, key_path: Path, common_name: str, **kwargs: object) -> Issued:
    """Reuse the pair on disk, or make it once (first start) and keep it."""
    with key_lock(cert_path.parent):
        return _load_or_issue(cert_path, key_path, common_name, **kwargs)


def _load_or_issue(cert_path: Path, key_path: Path, common_name: str, **kwargs: object) -> Issued:
    if cert_path.exists() and key_path.exists():
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        # a key this module made and wrote owner-only: the slow RSA prime checks on loading are skipped
        key = serialization.load_pem_private_key(key_path.read_bytes(), None, unsafe_skip_rsa_key_validation=True)
        assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
        return Issued(certificate, key)
    issued = issue(common_name, **kwargs)  # type: ignore[arg-type]
    write_private(key_path, issued.key_pem())
    write_public(cert_path, issued.cert_pem())
    return issued


def gateway_signing_identity(data_dir: Path) -> Issued:
    """The certificate the gateway signs its return files (ACRF, NOTI...) with."""
    folder = data_dir / "keys"
    return load_or_issue(folder / "gateway-signing.pem", folder / "gateway-signing.key", "gga-gateway signing",
                         organization="gga-gateway", not_after=datetime.now(UTC) + timedelta(days=3650),
                         eku=[ExtendedKeyUsageOID.CODE_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION])


def gateway_tls_identity(data_dir: Path) -> Issued:
    """The TLS certificate of FTPS (AUTH TLS)."""
    folder = data_dir / "keys"
    return load_or_issue(folder / "tls.pem", folder / "tls.key", "localhost", organization="gga-gateway",
                         not_after=datetime.now(UTC) + timedelta(days=3650), dns_names=["localhost"],
                         eku=[ExtendedKeyUsageOID.SERVER_AUTH])
