import base64

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel.errors import ErrorCode, GGAError
from keys.certificates import describe, load_certificate
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
