"""Every keys parser that reads sender input (FS armour and CMS, certificates, client assertions): whatever comes in,
only the documented refusal comes out, and an adversarial 1 MiB input is decided within 1 s (the one timed
assertion allowed: a guard against super-linear parsing, issue 12)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import time
from collections.abc import Callable

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernel.errors import ErrorCode, GGAError
from keys.assertions import AssertionInvalid, unverified_issuer, verify
from keys.certificates import _pem_block, describe, load_certificate, weaknesses
from keys.cms import armoured, fs_file, parse
from tests.keys import pki

MiB = 1 << 20
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# the regular expressions the linear parsers replaced: the oracle of what they find
OLD_ARMOUR = re.compile(rb"-----BEGIN [A-Z0-9 ]+-----(.*?)-----END [A-Z0-9 ]+-----", re.S)
OLD_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def fill(unit: bytes, size: int = MiB) -> bytes:
    return unit * (size // len(unit))


def nested_der(size: int = MiB) -> bytes:
    """SEQUENCE in SEQUENCE... with definite lengths, about ``size`` bytes."""
    depth = (size - 2) // 6
    headers = (b"\x30\x84" + (2 + 6 * (depth - 1 - level)).to_bytes(4, "big") for level in range(depth))
    return b"".join(headers) + b"\x05\x00"


ADVERSARIAL = {
    "BEGIN lines without END": fill(b"-----BEGIN A-----\n"),
    "BEGIN PKCS7 then base64 without END": b"-----BEGIN PKCS7-----\n" + fill(b"QUJD\n", MiB - 22),
    "BEGIN CERTIFICATE lines without END": fill(b"-----BEGIN CERTIFICATE-----\r\n"),
    "BEGIN CERTIFICATE then base64 without END": b"-----BEGIN CERTIFICATE-----\n" + fill(b"QUJD", MiB - 28),
    "one huge base64 line": base64.b64encode(os.urandom(MiB * 3 // 4)),
    "nested markers": fill(b"-----BEGIN A-----\n", MiB // 2) + fill(b"-----END A-----\n", MiB // 2),
    "markers in markers": fill(b"-----BEGIN -----BEGIN A----------END -----END A-----"),
    "BEGIN with an endless label": b"-----BEGIN " + fill(b"A", MiB - 11),
    "BEGIN without its dashes": fill(b"-----BEGIN A"),
    "dashes only": fill(b"-"),
    "END lines only": fill(b"-----END CERTIFICATE-----\n"),
    "nested DER": nested_der(),
    "indefinite-length DER": fill(b"\x30\x80"),
}


def within_a_second(call: Callable[[], object]) -> None:
    started = time.thread_time()  # CPU time of this thread: other load on the machine does not count
    with contextlib.suppress(GGAError):
        call()
    assert time.thread_time() - started < 1.0


@pytest.mark.parametrize("data", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_a_crafted_mebibyte_is_decided_within_a_second(data):
    assert len(data) <= MiB
    within_a_second(lambda: parse(data))
    within_a_second(lambda: load_certificate(data))


# -- the linear armour finds what the regular expressions found -----------------------------------------------------
ARMOUR_TOKENS = st.lists(st.sampled_from([b"-----", b"-", b"BEGIN ", b"END ", b"BEGIN", b"CERTIFICATE", b"A", b"7",
                                          b" ", b"\n", b"x", b"-----BEGIN A-----", b"-----END A-----",
                                          b"-----BEGIN CERTIFICATE-----", b"-----END CERTIFICATE-----"]),
                         max_size=30).map(b"".join)


@FUZZ
@given(ARMOUR_TOKENS)
def test_the_fs_armour_is_found_as_before(data):
    found = OLD_ARMOUR.search(data)
    assert armoured(data) == (found.group(1) if found else None)


@FUZZ
@given(ARMOUR_TOKENS)
def test_the_pem_block_is_found_as_before(data):
    found = OLD_PEM.search(data)
    assert _pem_block(data) == (found.group(0) if found else None)


# -- CMS ------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def signer():
    return pki.sender("fuzz signer", kind="ec")


@pytest.fixture(scope="module")
def armoured_signature(signer):
    der = pki.sign(b"content", signer)  # once: an ECDSA signature's length varies, hypothesis needs one input
    return b"-----BEGIN PKCS7-----\n" + base64.encodebytes(der) + b"-----END PKCS7-----\n"


@FUZZ
@given(st.one_of(st.binary(max_size=2000), ARMOUR_TOKENS,
                 ARMOUR_TOKENS.map(lambda b: b"-----BEGIN PKCS7-----\n" + b + b"\n-----END PKCS7-----")))
def test_any_fs_is_a_signature_or_malformed(data):
    try:
        parse(data)
    except GGAError as err:
        assert err.code == ErrorCode.SIGNATURE_MALFORMED


@FUZZ
@given(data=st.data())
def test_a_mutated_armoured_signature_is_a_signature_or_malformed(armoured_signature, data):
    text = bytearray(armoured_signature)
    for _ in range(data.draw(st.integers(1, 6))):
        text[data.draw(st.integers(0, len(text) - 1))] = data.draw(st.sampled_from(b"-ABZ09+/= \n\x00\xff"))
    try:
        parse(bytes(text))
    except GGAError as err:
        assert err.code == ErrorCode.SIGNATURE_MALFORMED


# -- certificates ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def certificate_forms():
    cert = pki.sender("fuzz certificate", issuer=pki.ca()).certificate
    der = cert.public_bytes(serialization.Encoding.DER)
    return [der, cert.public_bytes(serialization.Encoding.PEM), base64.encodebytes(der)]


@FUZZ
@given(data=st.data())
def test_a_mutated_certificate_is_read_whole_or_malformed(certificate_forms, data):
    form = bytearray(data.draw(st.sampled_from(certificate_forms)))
    for _ in range(data.draw(st.integers(1, 4))):
        form[data.draw(st.integers(0, len(form) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(len(form) // 2, len(form)))
    try:
        cert = load_certificate(bytes(form[:cut]))
    except GGAError as err:
        assert err.code == ErrorCode.CERTIFICATE_MALFORMED
        return
    describe(cert)  # what registration shows and checks of a certificate that loaded must not fail
    assert isinstance(weaknesses(cert), list)


# -- client assertions ----------------------------------------------------------------------------------------------
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                       max_size=3), max_leaves=8)
CLAIMS = st.dictionaries(st.sampled_from(["iss", "sub", "aud", "exp", "nbf", "iat", "jti", "x"]), JSON_VALUES,
                         max_size=8)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@FUZZ
@given(st.one_of(st.text(max_size=200),
                 st.tuples(st.dictionaries(st.sampled_from(["alg", "typ", "kid", "b64", "crit"]), JSON_VALUES),
                           JSON_VALUES, st.binary(max_size=20))
                 .map(lambda t: ".".join(b64url(json.dumps(x).encode()) for x in t[:2]) + "." + b64url(t[2]))))
def test_any_assertion_has_an_issuer_or_is_invalid(assertion):
    with contextlib.suppress(AssertionInvalid):
        assert isinstance(unverified_issuer(assertion), str)


@pytest.fixture(scope="module")
def ws_keys():
    return [pki.sender("fuzz ws rsa"), pki.sender("fuzz ws ec", kind="ec")]


@settings(FUZZ, max_examples=100)  # each example signs: fewer of them
@given(data=st.data())
def test_any_signed_claims_are_verified_or_invalid(ws_keys, data):
    """Signed by a registered key or by a key of the other type, with claims of any JSON type."""
    signer = data.draw(st.sampled_from(ws_keys))
    alg = data.draw(st.sampled_from(["RS256", "PS384"] if signer is ws_keys[0] else ["ES256"]))
    registered = data.draw(st.sampled_from([ws_keys, ws_keys[:1], ws_keys[1:]]))
    token = jwt.api_jws.encode(json.dumps(data.draw(CLAIMS)).encode(), signer.key, algorithm=alg)
    try:
        claims = verify(token, [c.certificate for c in registered], ["aud"], "iss", time.time())
    except AssertionInvalid:
        return
    assert claims["iss"] == claims["sub"] == "iss"


def test_fs_file_round_trip_still_parses(signer):
    assert parse(fs_file(pki.sign(b"x", signer))).digest_name == "sha256"
