"""Signatures at the edges (a review's findings): a revocation published by an intermediate CA, RSA-PSS as
OpenSSL makes it with other parameters, a forged PSS parameter, a certificate renewed on the same key. Signatures
made with `openssl cms`, certificates with tests/keys/pki.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms as asn1_cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from kernel.errors import ErrorCode, GGAError
from keys.cms import VerificationPolicy, fs_file, verify_detached
from keys.issuing import issue
from tests.keys import pki

CONTENT = b"<DmfAOriginal>x</DmfAOriginal>\n"
NOW = datetime.now(UTC)


def outcome(fs: bytes, registered: list[x509.Certificate], **kwargs: object) -> str:
    try:
        verify_detached(fs, pki.digest_of(CONTENT), registered, at=datetime.now(UTC), **kwargs)  # type: ignore[arg-type]
    except GGAError as err:
        return str(err.code)
    return "ACCEPTED"


def test_a_certificate_revoked_by_the_intermediate_ca_that_issued_it_is_refused(tmp_path: Path):
    """Only the root is in the trust store; the intermediate issues the certificates and signs their CRL. The CRL
    was skipped (no trusted CA signed it) and the revoked certificate kept signing accepted files."""
    root = pki.ca()
    intermediate = issue("Intermediate CA", issuer=root, ca=True)
    sender = pki.sender("revoked sender", issuer=intermediate)
    (tmp_path / "intermediate.pem").write_bytes(intermediate.cert_pem())
    der = pki.openssl_sign(CONTENT, sender, tmp_path, extra=("-certfile", str(tmp_path / "intermediate.pem")))
    policy = VerificationPolicy(trust_store=[root.certificate], crls=[pki.crl(intermediate, sender)])
    assert outcome(fs_file(der), [sender.certificate], policy=policy) == ErrorCode.CERTIFICATE_REVOKED
    forged = pki.crl(intermediate, sender, signed_by=pki.ca("Impostor"))  # nobody of the chain: it says nothing
    policy = VerificationPolicy(trust_store=[root.certificate], crls=[forged])
    assert outcome(fs_file(der), [sender.certificate], policy=policy) == "ACCEPTED"


def test_rsa_pss_as_openssl_makes_it_with_a_zero_salt_or_another_mgf1_hash_verifies(tmp_path: Path):
    sender = pki.sender("pss sender")
    for options in (("-keyopt", "rsa_padding_mode:pss", "-keyopt", "rsa_pss_saltlen:0"),
                    ("-md", "sha384", "-keyopt", "rsa_padding_mode:pss", "-keyopt", "rsa_mgf1_md:sha256"),
                    ("-keyopt", "rsa_padding_mode:pss", "-keyopt", "rsa_pss_saltlen:max")):
        der = pki.openssl_sign(CONTENT, sender, tmp_path, extra=options)
        assert outcome(fs_file(der), [sender.certificate]) == "ACCEPTED", options


def test_a_pss_salt_length_out_of_range_is_malformed_not_a_crash(tmp_path: Path):
    """The parameter is not signed: 2**70 made the check raise OverflowError, and the submission was retried for
    a day before PROCESSING_FAILED instead of being refused at once."""
    sender = pki.sender("pss sender")
    der = pki.openssl_sign(CONTENT, sender, tmp_path, extra=("-keyopt", "rsa_padding_mode:pss"))
    info = asn1_cms.ContentInfo.load(der)
    signer = info["content"]["signer_infos"][0]
    parameters = signer["signature_algorithm"]["parameters"]
    parameters["salt_length"] = 2 ** 70
    signer["signature_algorithm"]["parameters"] = parameters
    assert outcome(fs_file(info.dump(force=True)), [sender.certificate]) == ErrorCode.SIGNATURE_MALFORMED


def test_a_certificate_renewed_on_the_same_key_verifies_while_the_expired_one_is_still_registered(tmp_path: Path):
    """Signed with `-keyid` (the key identifier names the signer): both registered certificates match it; the
    first, expired, one was the only one tried."""
    root = pki.ca()
    old = pki.sender("renewed sender", issuer=root, not_before=NOW - timedelta(days=400),
                     not_after=NOW - timedelta(days=1))
    new = issue("renewed sender", issuer=root, key=old.key)
    der = pki.openssl_sign(CONTENT, new, tmp_path, extra=("-keyid",))
    assert outcome(fs_file(der), [old.certificate, new.certificate]) == "ACCEPTED"
    assert outcome(fs_file(der), [old.certificate]) == ErrorCode.CERTIFICATE_EXPIRED  # alone, as before


def test_an_fs_claiming_an_eddsa_certificate_is_refused_with_the_reason(tmp_path: Path):
    """EdDSA certificates may be registered (they sign web-service assertions), but no CMS tool here makes an
    EdDSA SignedData: such an FS was refused with a reason that blamed the signature's algorithm."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    edwards = issue("eddsa sender", issuer=pki.ca(), key=ed25519.Ed25519PrivateKey.generate())
    rsa_signer = pki.sender("rsa sender")
    der = pki.openssl_sign(CONTENT, rsa_signer, tmp_path)
    with pytest.raises(GGAError) as refused:  # the key named in the FS is the Edwards one (same issuer and serial)
        from keys.cms import _check_signature, parse

        _check_signature(parse(fs_file(der)), edwards.certificate, hashes.SHA256(), pki.digest_of(CONTENT)("sha256"))
    assert refused.value.code == ErrorCode.SIGNATURE_INVALID and "EdDSA" in refused.value.message
