"""Sender material for admin tests: certificates and SSH keys made once per run."""

from __future__ import annotations

from functools import cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from keys.issuing import Issued
from tests.keys import pki

CONTACT = {"last_name": "Janssens", "first_name": "An", "title": "Mme", "function": "Payroll manager",
           "language": "fr", "phone": "+32 2 555 12 34", "emails": ["payroll@acme.be", "it@acme.be"]}
PASSWORD = "Batch-Sender-2026"


def certificate(name: str = "Acme payroll signing") -> Issued:
    return _certificate(name)


@cache
def _certificate(name: str) -> Issued:
    return pki.sender(name, issuer=_ca())


@cache
def _ca() -> Issued:
    return pki.ca("Acme Issuing CA")


def cert_pem(name: str = "Acme payroll signing") -> str:
    return certificate(name).cert_pem().decode()


def cert_base64_der(name: str = "Acme payroll signing") -> str:
    import base64

    return base64.b64encode(certificate(name).certificate.public_bytes(serialization.Encoding.DER)).decode()


@cache
def ssh_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def ssh_public(key=None) -> str:  # type: ignore[no-untyped-def]
    key = key or ssh_key()
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def weak_rsa_ssh() -> str:
    return ssh_public(rsa.generate_private_key(65537, 1024))


def sender_body(technical_user: str = "EXPacme001", channels: list[dict] | None = None) -> dict:
    return {"contact": CONTACT, "technical_user": technical_user, "password": PASSWORD,
            "channels": channels or [{"type": "FTP", "certificate": cert_pem(),
                                      "applications": [{"code": "PUBL"}]}]}
