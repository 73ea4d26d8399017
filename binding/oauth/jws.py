"""Compact JWS signing (RFC 7515 §3.1, §7.1) with ES256 (RFC 7518 §3.4: the signature is R || S,
32 bytes each) or RS256 (RFC 7518 §3.3: RSASSA-PKCS1-v1_5 with SHA-256).

Every token the broker issues is signed here: joserfc's ``jwt.encode`` re-validates the header
and re-encodes it on every call, ~3x the signature's own cost on the token endpoint's hot path
(issue 5, README "Performance"). The encoded header is kept per (alg, typ, kid); verification
stays with joserfc (``KeyStore.verification_keys``), and the tests verify these tokens with it."""
from __future__ import annotations

import base64
import json
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
_SHA256 = hashes.SHA256()
_PKCS1v15 = padding.PKCS1v15()


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


@lru_cache(maxsize=64)
def _encoded_header(alg: str, typ: str, kid: str) -> bytes:
    return _b64(json.dumps({"alg": alg, "typ": typ, "kid": kid}, separators=(",", ":")).encode())


def _es256(private_key, signing_input: bytes) -> bytes:
    r, s = decode_dss_signature(private_key.sign(signing_input, _ECDSA_SHA256))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _rs256(private_key, signing_input: bytes) -> bytes:
    return private_key.sign(signing_input, _PKCS1v15, _SHA256)


_SIGNERS = {"ES256": _es256, "RS256": _rs256}


def sign_compact(alg: str, typ: str, kid: str, claims: dict, private_key) -> str:
    """``header.payload.signature`` for ``claims`` (UTF-8 JSON), signed by ``private_key`` (a
    ``cryptography`` private key of ``alg``'s kind)."""
    signer = _SIGNERS.get(alg)
    if signer is None:
        raise ValueError(f"unsupported signing algorithm {alg!r}")
    payload = _b64(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    signing_input = _encoded_header(alg, typ, kid) + b"." + payload
    return (signing_input + b"." + _b64(signer(private_key, signing_input))).decode("ascii")


__all__ = ["sign_compact"]
