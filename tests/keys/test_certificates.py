import base64
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel.errors import ErrorCode, GGAError
from keys.certificates import describe, load_certificate, weaknesses
from keys.issuing import issue
from tests.keys import pki


@pytest.fixture(scope="module")
def cert():
    return pki.sender("Jean Expéditeur", organization="Acme SA", issuer=pki.ca("Acme Issuing CA")).certificate


def test_pem_der_and_base64_der_load_the_same_certificate(cert):
    der = cert.public_bytes(serialization.Encoding.DER)
    wrapped = base64.encodebytes(der)  # .cer files often come as wrapped base64 without armour
    for form in (cert.public_bytes(serialization.Encoding.PEM), der, base64.b64encode(der), wrapped,
                 wrapped.replace(b"\n", b"\r\n"), b"junk before\n" + cert.public_bytes(serialization.Encoding.PEM)):
        assert load_certificate(form) == cert


def test_confirmation_screen_fields(cert):
    info = describe(cert)
    assert (info.owner, info.company, info.issuer) == ("Jean Expéditeur", "Acme SA", "Acme Issuing CA")
    assert info.serial_decimal == str(cert.serial_number)
    assert int(info.serial_hex, 16) == cert.serial_number and info.serial_hex == info.serial_hex.upper()
    assert info.expires == cert.not_valid_after_utc and len(info.fingerprint_sha256) == 64


def test_company_not_specified():
    assert describe(pki.sender("No Org").certificate).company == "Not specified"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_any_bytes_give_a_coded_refusal(data):
    try:
        load_certificate(data)
    except GGAError as err:
        assert err.code == ErrorCode.CERTIFICATE_MALFORMED


def test_a_certificate_of_an_unknown_version_is_malformed(cert):
    # X.509 v2 (version field 1; found by the certificate fuzz test): cryptography refuses it with its own
    # InvalidVersion, which is not a ValueError; it must still be CERTIFICATE_MALFORMED, not a crash
    der = cert.public_bytes(serialization.Encoding.DER)
    v3 = b"\xa0\x03\x02\x01\x02"  # [0] EXPLICIT INTEGER 2 (v3)
    assert der.count(v3) == 1
    for form in (der.replace(v3, b"\xa0\x03\x02\x01\x01"), der.replace(v3, b"\xa0\x03\x02\x01\x07")):
        for encoded in (form, base64.b64encode(form)):
            with pytest.raises(GGAError) as err:
                load_certificate(encoded)
            assert err.value.code == ErrorCode.CERTIFICATE_MALFORMED


# -- what may sign (issue 12) ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "expected"), [
    ("rsa1024", "RSA key of 1024 bits (at least 2048)"),
    ("encryption", "key usage allows neither digitalSignature nor nonRepudiation"),
    ("ca", "a CA certificate (basic constraints CA=true)"),
])
def test_weak_certificates(kind, expected):
    assert weaknesses(pki.weak(kind).certificate) == [expected]


def test_keys_that_may_sign():
    ca = pki.ca()
    for key in (rsa.generate_private_key(65537, 2048), ec.generate_private_key(ec.SECP256R1()),
                ec.generate_private_key(ec.SECP384R1()), ed25519.Ed25519PrivateKey.generate()):
        assert weaknesses(issue("fine", key=key, issuer=ca).certificate) == [], key


def test_a_small_curve_and_a_dsa_key_may_not():
    small = issue("P-192", key=ec.generate_private_key(ec.SECP192R1())).certificate
    assert weaknesses(small) == ["EC key on secp192r1 (at least P-256)"]
    dsa_key = dsa.generate_private_key(2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dsa")])
    dsa_cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(dsa_key.public_key())
                .serial_number(1).not_valid_before(pki.NOW).not_valid_after(pki.NOW + timedelta(days=1))
                .sign(dsa_key, hashes.SHA256()))
    assert weaknesses(dsa_cert) == ["DSAPublicKey keys do not sign files (RSA, EC or EdDSA)"]


def test_non_repudiation_alone_is_enough_and_no_key_usage_at_all_too():
    usage = x509.KeyUsage(digital_signature=False, content_commitment=True, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False)
    assert weaknesses(pki._with_key_usage("nonRepudiation", usage).certificate) == []
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bare")])
    bare = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(pki.NOW).not_valid_after(pki.NOW + timedelta(days=1))
            .sign(key, hashes.SHA256()))
    assert weaknesses(bare) == []


def test_every_weakness_is_told_at_once():
    ca_1024 = issue("weak CA", key=rsa.generate_private_key(65537, 1024), ca=True).certificate
    assert len(weaknesses(ca_1024)) == 2
