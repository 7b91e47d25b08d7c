"""Client assertions (private_key_jwt): a key that does not fit the algorithm is a refusal, never a crash."""

import json
import logging
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from keys.assertions import AssertionInvalid, unverified_issuer, verify
from keys.issuing import issue
from tests.keys import pki

SUBJECT = "self-service:expeditor:123456"
AUDIENCE = "http://gateway.test/REST/oauth/v5/token"


@pytest.fixture(scope="module")
def certs():
    ca = pki.ca()
    return {"rsa": pki.sender("ws rsa", issuer=ca), "ec": pki.sender("ws ec", kind="ec", issuer=ca),
            "ed25519": issue("ws ed25519", issuer=ca, key=ed25519.Ed25519PrivateKey.generate())}


def signed(key, alg: str, **claims) -> str:  # type: ignore[no-untyped-def]
    now = int(time.time())
    body = {"iss": SUBJECT, "sub": SUBJECT, "aud": AUDIENCE, "exp": now + 60, "jti": uuid.uuid4().hex} | claims
    return jwt.api_jws.encode(json.dumps(body).encode(), key, algorithm=alg)  # jwt.encode refuses odd claims


def check(assertion: str, *registered):  # type: ignore[no-untyped-def]
    return verify(assertion, [c.certificate for c in registered], [AUDIENCE], SUBJECT, time.time())


@pytest.mark.parametrize(("signer", "alg", "registered"), [
    ("ec", "ES256", "rsa"),  # the attack: PyJWT raised TypeError, the token endpoint answered 500
    ("rsa", "RS256", "ec"),
    ("rsa", "PS256", "ed25519"),
    ("ec", "ES256", "ed25519"),
])
def test_a_key_of_another_type_is_an_invalid_assertion(certs, signer, alg, registered):
    with pytest.raises(AssertionInvalid, match="not signed by a registered WS certificate"):
        check(signed(certs[signer].key, alg), certs[registered])


def test_an_assertion_signed_with_a_registered_certificate_since_expired_says_so(certs):
    """Beside a current one, it was "not signed by a registered WS certificate (Signature verification failed)"
    (found by an outside test helper): the file side says CERTIFICATE_EXPIRED for the same certificate."""
    from datetime import UTC, datetime, timedelta
    old = pki.sender("ws old", not_before=datetime.now(UTC) - timedelta(days=30),
                     not_after=datetime.now(UTC) - timedelta(days=1))
    with pytest.raises(AssertionInvalid, match="signed by a registered WS certificate that may not be used now "
                       r"\(CERTIFICATE_EXPIRED: "):
        check(signed(old.key, "RS256"), certs["rsa"], old)
    with pytest.raises(AssertionInvalid, match="not signed by a registered WS certificate"):  # another key still
        check(signed(pki.sender("stranger").key, "RS256"), certs["rsa"], old)


def test_during_a_rollover_from_rsa_to_ec_both_keys_sign(certs):
    for who, alg in (("rsa", "RS256"), ("ec", "ES256")):
        assert check(signed(certs[who].key, alg), certs["rsa"], certs["ec"])["sub"] == SUBJECT


@pytest.mark.parametrize("claims", [{"exp": "9999999999"}, {"iss": 12}, {"sub": ["x"]}, {"aud": {"a": 1}},
                                    {"jti": 5}, {"exp": [1]}])
def test_claims_of_the_wrong_type_are_invalid(certs, claims):
    with pytest.raises(AssertionInvalid):
        check(signed(certs["rsa"].key, "RS256", **claims), certs["rsa"])


@pytest.mark.parametrize("token", ["", "a.b.c", "e30.e30", "eyJhbGciOiJub25lIn0.W10.", "\x00" * 10])
def test_garbage_has_no_issuer(token):  # "e30" is {}; "W10" is []
    with pytest.raises(AssertionInvalid):
        unverified_issuer(token)


def test_an_issuer_that_is_not_a_string(certs):
    with pytest.raises(AssertionInvalid):
        unverified_issuer(signed(certs["rsa"].key, "RS256", iss={"x": 1}))


def test_a_weak_certificate_still_signs_and_is_logged(caplog):
    weak = pki.weak("rsa1024")
    with caplog.at_level(logging.WARNING, logger="keys.cms"):
        assert check(signed(weak.key, "RS256"), weak)["iss"] == SUBJECT
    assert any("client assertion" in r.getMessage() and "weak rsa1024" in r.getMessage() for r in caplog.records)
