"""binding.oauth.jws: the broker's compact JWS signer, checked with joserfc (the verifier
relying parties use) for both algorithms a client may choose."""
from __future__ import annotations

import base64
import json

import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import ECKey, RSAKey

from binding.oauth.jws import sign_compact

CLAIMS = {"iss": "https://sso.example.cn", "sub": "u1", "name": "张三", "amr": ["pwd"], "iat": 1700000000}


def _header(token: str) -> dict:
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@pytest.mark.parametrize("alg, key", [("ES256", ECKey.generate_key("P-256")), ("RS256", RSAKey.generate_key(2048))])
def test_tokens_verify_with_joserfc_and_carry_the_header(alg, key):
    token = sign_compact(alg, "at+jwt", "kid-1", CLAIMS, key.private_key)
    assert _header(token) == {"alg": alg, "typ": "at+jwt", "kid": "kid-1"}
    decoded = jwt.decode(token, key, algorithms=[alg])
    assert decoded.claims == CLAIMS and "=" not in token


def test_another_key_does_not_verify():
    token = sign_compact("ES256", "JWT", "k", CLAIMS, ECKey.generate_key("P-256").private_key)
    with pytest.raises(BadSignatureError):
        jwt.decode(token, ECKey.generate_key("P-256"), algorithms=["ES256"])


def test_other_algorithms_are_refused():
    with pytest.raises(ValueError, match="HS256"):
        sign_compact("HS256", "JWT", "k", CLAIMS, b"secret")
