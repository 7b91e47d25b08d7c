"""FS signatures: made by cryptography and by the openssl command line; each refusal has its own code."""

import base64
import logging
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import cms as asn1_cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel.errors import ErrorCode, GGAError
from keys.certificates import fingerprint
from keys.cms import VerificationPolicy, fs_file, sign_detached, verify_detached
from keys.issuing import new_key
from tests.keys import pki

CONTENT = b"<?xml version='1.0'?>\n<DmfAOriginal>\r\n  lines with LF and CRLF\n</DmfAOriginal>\n"
NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def root():
    return pki.ca()


@pytest.fixture(scope="module", params=["rsa", "ec"])
def signer(request, root):
    return pki.sender(f"sender {request.param}", kind=request.param, issuer=root)


def verify(fs, who, content=CONTENT, *, registered=None, at=None, policy=None):
    # the time of the call: certificates made by fixtures may be younger than this module's NOW in a long run
    return verify_detached(fs, pki.digest_of(content), registered or [who.certificate],
                           at=at or datetime.now(UTC), policy=policy)


def code_of(call):
    with pytest.raises(GGAError) as err:
        call()
    return err.value.code


def test_cryptography_signature_in_every_accepted_encoding(signer):
    der = pki.sign(CONTENT, signer)
    b64 = base64.b64encode(der)
    wrapped_lf = base64.encodebytes(der)
    forms = [b64, b64 + b"\r\n", wrapped_lf, wrapped_lf.replace(b"\n", b"\r\n"), wrapped_lf.replace(b"\n", b"\r"),
             b"-----BEGIN PKCS7-----\n" + wrapped_lf + b"-----END PKCS7-----\n", der]
    bom = b"\xef\xbb\xbf"  # a Windows editor's byte order mark before the text (it was SIGNATURE_MALFORMED)
    forms += [bom + b64, bom + b"-----BEGIN PKCS7-----\n" + wrapped_lf + b"-----END PKCS7-----\n"]
    for form in forms:
        assert verify(form, signer) == signer.certificate


def test_openssl_command_line_signature(signer, tmp_path):
    der = pki.openssl_sign(CONTENT, signer, tmp_path)
    assert verify(fs_file(der), signer) == signer.certificate
    pem = subprocess.run(["openssl", "cms", "-sign", "-binary", "-in", str(tmp_path / "content"), "-signer",
                          str(tmp_path / "signer.pem"), "-inkey", str(tmp_path / "signer.key"), "-outform", "PEM"],
                         check=True, capture_output=True).stdout
    assert verify(pem, signer) == signer.certificate


def test_openssl_without_signed_attributes(tmp_path, root):
    rsa_signer = pki.sender("noattr", issuer=root)
    der = pki.openssl_sign(CONTENT, rsa_signer, tmp_path, extra=("-noattr",))
    assert verify(fs_file(der), rsa_signer) == rsa_signer.certificate
    assert code_of(lambda: verify(fs_file(der), rsa_signer, CONTENT + b"x")) == ErrorCode.SIGNATURE_INVALID


def test_openssl_accepts_what_we_sign(signer, tmp_path, root):
    (tmp_path / "f").write_bytes(CONTENT)
    (tmp_path / "f.p7s").write_bytes(pki.sign(CONTENT, signer))
    (tmp_path / "ca.pem").write_bytes(root.cert_pem())
    result = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "f.p7s"),
                             "-content", str(tmp_path / "f"), "-CAfile", str(tmp_path / "ca.pem"), "-purpose", "any",
                             "-out", "/dev/null"], capture_output=True)
    assert result.returncode == 0, result.stderr


def test_tampered_content(signer):
    fs = fs_file(pki.sign(CONTENT, signer))
    assert code_of(lambda: verify(fs, signer, CONTENT.replace(b"LF", b"lf"))) == ErrorCode.SIGNATURE_INVALID
    assert code_of(lambda: verify(fs, signer, CONTENT[:-1])) == ErrorCode.SIGNATURE_INVALID  # truncated upload


def test_certificate_not_the_registered_one(signer, root):
    other = pki.sender("someone else", issuer=root)
    fs = fs_file(pki.sign(CONTENT, other))
    assert code_of(lambda: verify(fs, signer)) == ErrorCode.SIGNER_NOT_REGISTERED


def with_issuer(der: bytes, issuer: asn1_x509.Name) -> bytes:
    """The signature with its signer's issuer Name replaced (the signature does not cover it)."""
    info = asn1_cms.ContentInfo.load(der)
    info["content"]["signer_infos"][0]["sid"].chosen["issuer"] = issuer
    return info.dump(force=True)


def test_an_issuer_name_encoded_otherwise_still_names_the_certificate(signer):
    # another tool may encode the issuer's strings as PrintableString where the certificate has UTF8String: the same
    # Name (RFC 5280 7.1), so the same signer; the byte comparison is only its shortcut
    issuer = asn1_x509.Name.load(signer.certificate.issuer.public_bytes())
    printable = asn1_x509.Name(name="", value=asn1_x509.RDNSequence([asn1_x509.RelativeDistinguishedName([
        {"type": pair["type"], "value": asn1_x509.DirectoryString(name="printable_string", value=pair["value"].native)}
        for pair in rdn]) for rdn in issuer.chosen]))
    assert printable.dump() != issuer.dump() and printable.hashable == issuer.hashable
    fs = fs_file(with_issuer(pki.sign(CONTENT, signer), printable))
    assert verify(fs, signer) == signer.certificate
    other = asn1_x509.Name.build({"common_name": "Someone Else CA"})
    assert code_of(lambda: verify(fs_file(with_issuer(pki.sign(CONTENT, signer), other)), signer)) == \
        ErrorCode.SIGNER_NOT_REGISTERED


def test_same_name_other_key_is_not_the_registered_certificate(signer, root):
    # an impostor copies the registered certificate's name and serial into its own self-made certificate
    impostor_key = new_key("rsa")
    forged = (x509.CertificateBuilder().subject_name(signer.certificate.subject)
              .issuer_name(signer.certificate.issuer).serial_number(signer.certificate.serial_number)
              .public_key(impostor_key.public_key()).not_valid_before(NOW - timedelta(days=1))
              .not_valid_after(NOW + timedelta(days=30)).sign(impostor_key, hashes.SHA256()))
    fs = fs_file(sign_detached(CONTENT, forged, impostor_key))
    assert code_of(lambda: verify(fs, signer)) == ErrorCode.SIGNATURE_INVALID


def test_expired_and_not_yet_valid(root):
    expired = pki.sender("old", issuer=root, not_before=NOW - timedelta(days=400), not_after=NOW - timedelta(days=1))
    future = pki.sender("future", issuer=root, not_before=NOW + timedelta(days=1), not_after=NOW + timedelta(days=400))
    assert code_of(lambda: verify(fs_file(pki.sign(CONTENT, expired)), expired)) == ErrorCode.CERTIFICATE_EXPIRED
    assert code_of(lambda: verify(fs_file(pki.sign(CONTENT, future)), future)) == ErrorCode.CERTIFICATE_NOT_YET_VALID


def test_sha1_refused_unless_configured(signer, tmp_path):
    fs = fs_file(pki.openssl_sign(CONTENT, signer, tmp_path, digest="sha1"))
    assert code_of(lambda: verify(fs, signer)) == ErrorCode.DIGEST_TOO_WEAK
    assert verify(fs, signer, policy=VerificationPolicy(allow_sha1=True)) == signer.certificate


def test_sha512_signature(signer):
    assert verify(fs_file(pki.sign(CONTENT, signer, hashes.SHA512())), signer) == signer.certificate


def test_chain_to_the_trust_store(signer, root):
    fs = fs_file(pki.sign(CONTENT, signer))
    assert verify(fs, signer, policy=VerificationPolicy(trust_store=[root.certificate])) == signer.certificate
    stranger_ca = pki.ca("Other CA")
    assert code_of(lambda: verify(fs, signer, policy=VerificationPolicy(trust_store=[stranger_ca.certificate]))) \
        == ErrorCode.CHAIN_UNTRUSTED
    self_signed = pki.sender("self signed")
    assert code_of(lambda: verify(fs_file(pki.sign(CONTENT, self_signed)), self_signed,
                                  policy=VerificationPolicy(trust_store=[root.certificate]))) == \
        ErrorCode.CHAIN_UNTRUSTED


def test_revoked_by_crl(root):
    revoked = pki.sender("revoked", issuer=root)
    policy = VerificationPolicy(trust_store=[root.certificate], crls=[pki.crl(root, revoked)])
    assert code_of(lambda: verify(fs_file(pki.sign(CONTENT, revoked)), revoked, policy=policy)) == \
        ErrorCode.CERTIFICATE_REVOKED
    fine = pki.sender("fine", issuer=root)
    assert verify(fs_file(pki.sign(CONTENT, fine)), fine, policy=policy) == fine.certificate


def test_rollover_two_registered_certificates(root):
    old, new = pki.sender("old", issuer=root), pki.sender("new", issuer=root)
    registered = [old.certificate, new.certificate]
    for who in (old, new):
        assert verify(fs_file(pki.sign(CONTENT, who)), who, registered=registered) == who.certificate


@pytest.mark.parametrize("garbage", [b"", b"   \r\n", b"not base64 !!!", base64.b64encode(b"\x30\x03abc"),
                                     b"-----BEGIN PKCS7-----\nAAAA\n-----END PKCS7-----"])
def test_garbage_is_malformed(signer, garbage):
    assert code_of(lambda: verify(garbage, signer)) == ErrorCode.SIGNATURE_MALFORMED


def test_truncated_base64_is_malformed(signer):
    fs = fs_file(pki.sign(CONTENT, signer))
    assert code_of(lambda: verify(fs[: len(fs) // 2], signer)) == ErrorCode.SIGNATURE_MALFORMED


def test_a_certificate_is_not_a_signature(signer):
    assert code_of(lambda: verify(signer.certificate.public_bytes(serialization.Encoding.DER), signer)) == \
        ErrorCode.SIGNATURE_MALFORMED


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=800))
def test_any_bytes_give_a_coded_refusal(data):
    try:
        verify_detached(data, pki.digest_of(CONTENT), [], at=NOW)
    except GGAError as err:
        assert err.code in {ErrorCode.SIGNATURE_MALFORMED, ErrorCode.SIGNER_NOT_REGISTERED,
                            ErrorCode.DIGEST_TOO_WEAK}


_SIGNED: dict[int, bytes] = {}


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_signatures_give_a_coded_refusal(signer, data):
    der = bytearray(_SIGNED.setdefault(id(signer), pki.sign(CONTENT, signer)))
    for _ in range(data.draw(st.integers(1, 4))):
        der[data.draw(st.integers(0, len(der) - 1))] = data.draw(st.integers(0, 255))
    try:
        verify(bytes(der), signer)
    except GGAError as err:
        assert err.code in set(ErrorCode)


# -- attached signatures (issue 12, 13a) ----------------------------------------------------------------------------
def attached(content: bytes, who, embedded: bytes | None = None) -> bytes:
    """An attached SignedData over ``content``; with ``embedded``, its encapsulated content replaced after signing
    (the signed attributes still carry the digest of ``content``)."""
    der = (pkcs7.PKCS7SignatureBuilder().set_data(content).add_signer(who.certificate, who.key, hashes.SHA256())
           .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary]))
    if embedded is None:
        return der
    info = asn1_cms.ContentInfo.load(der)
    info["content"]["encap_content_info"]["content"] = embedded
    return info.dump(force=True)


def test_an_attached_signature_of_the_fi_itself_verifies(signer):
    assert verify(fs_file(attached(CONTENT, signer)), signer) == signer.certificate


def test_an_attached_signature_embedding_other_content_is_refused(signer):
    fs = fs_file(attached(CONTENT, signer, embedded=b"<DmfAOriginal>what the FS alone delivers</DmfAOriginal>"))
    with pytest.raises(GGAError) as err:
        verify(fs, signer)
    assert err.value.code == ErrorCode.SIGNATURE_INVALID and "embedded content" in err.value.message
    other = fs_file(attached(b"other content", signer))  # signed over the other content: its digest differs too
    assert code_of(lambda: verify(other, signer)) == ErrorCode.SIGNATURE_INVALID


# -- weak certificates registered before the rule (issue 12) --------------------------------------------------------
@pytest.mark.parametrize("kind", ["rsa1024", "encryption", "ca"])
def test_a_weak_certificate_still_verifies_and_each_use_is_logged(kind, caplog):
    weak = pki.weak(kind)
    with caplog.at_level(logging.WARNING, logger="keys.cms"):
        assert verify(fs_file(pki.sign(CONTENT, weak)), weak) == weak.certificate
    (record,) = [r for r in caplog.records if r.name == "keys.cms"]
    assert fingerprint(weak.certificate) in record.getMessage() and f"weak {kind}" in record.getMessage()


def test_a_sound_certificate_is_not_logged(signer, caplog):
    with caplog.at_level(logging.WARNING, logger="keys.cms"):
        verify(fs_file(pki.sign(CONTENT, signer)), signer)
    assert [r for r in caplog.records if r.name == "keys.cms"] == []
