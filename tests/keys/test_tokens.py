import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from keys.tokens import DEV_ISSUER, DevIssuer, TokenInvalid, TokenVerifier, TrustedIssuer


@pytest.fixture
def issuer(tmp_path):
    return DevIssuer(tmp_path).ensure()


def test_minted_token_verifies_and_carries_the_claims(issuer):
    verifier = TokenVerifier([issuer.trusted("aud")])
    claims = verifier.verify(issuer.mint("85073003328", "aud", "low", ["ops"]))
    assert (claims["sub"], claims["acr"], claims["roles"]) == ("85073003328", "low", ["ops"])


def test_key_is_kept_across_restarts(tmp_path, issuer):
    token = issuer.mint("85073003328", "aud")
    assert TokenVerifier([DevIssuer(tmp_path).ensure().trusted("aud")]).verify(token)["sub"] == "85073003328"


@pytest.mark.parametrize("case", ["audience", "expired", "foreign_key", "issuer", "garbage"])
def test_refusals(issuer, case):
    verifier = TokenVerifier([issuer.trusted("aud")])
    now = int(time.time())
    if case == "audience":
        token = issuer.mint("85073003328", "other")
    elif case == "expired":
        token = issuer.mint("85073003328", "aud", lifetime=-10)
    elif case == "foreign_key":
        token = jwt.encode({"iss": DEV_ISSUER, "aud": "aud", "sub": "x", "exp": now + 60},
                           ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": "dev"})
    elif case == "issuer":
        token = jwt.encode({"iss": "evil", "aud": "aud", "sub": "x", "exp": now + 60},
                           ec.generate_private_key(ec.SECP256R1()), algorithm="ES256")
    else:
        token = "abc.def.ghi"
    with pytest.raises(TokenInvalid):
        verifier.verify(token)


def test_jwks_file_issuer(tmp_path, issuer):
    path = tmp_path / "jwks.json"
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(issuer._key().public_key())) | {"kid": "dev"}
    path.write_text(json.dumps({"keys": [jwk]}))
    from keys.tokens import jwks_from_file

    verifier = TokenVerifier([TrustedIssuer(DEV_ISSUER, "aud", jwks=jwks_from_file(path))])
    assert verifier.verify(issuer.mint("85073003328", "aud"))["sub"] == "85073003328"
