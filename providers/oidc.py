"""OpenID Connect upstreams: authorization code flow with PKCE and nonce (OIDC Core 1.0 §3.1).

- Discovery (OIDC Discovery 1.0 §4): the document's ``issuer`` must equal the configured one
  (§4.3); it is cached per adapter for ``discovery_ttl_seconds`` by the injected clock, with the
  JWKS, which is fetched again once when an ID token names an unknown ``kid`` (key rotation).
- PKCE S256 (RFC 7636) and nonce: the verifier and the nonce travel in ``opaque``.
- Mix-up defence (RFC 9207): the expected issuer is stored in ``opaque``; an ``iss`` in the
  callback must equal it, and must be present when discovery says it is sent.
- ID token (OIDC Core §3.1.3.7): signature by the JWKS (asymmetric algorithms only), ``iss``,
  ``aud`` (and ``azp`` with several audiences), ``exp``/``iat`` with a small leeway, ``nonce``.
- UserInfo (§5.3.2): its ``sub`` must equal the ID token's; its claims are merged in.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import threading
from datetime import datetime, timedelta
from typing import Any, Mapping
from urllib.parse import urlsplit

from joserfc import jwt
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import KeySet

from .adapter import CLIENT_KEYS, BaseAdapter, same, with_query
from .base import Identity, LoginStart
from .schema import Key

log = logging.getLogger(__name__)

ASYMMETRIC_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
STANDARD_CLAIMS = {
    "subject": "sub",
    "login_name": "preferred_username",
    "phone": "phone_number",
    "phone_verified": "phone_number_verified",
    "name": "name",
}


class OIDCAdapter(BaseAdapter):
    TYPE = "oidc"
    KEYS = {
        "issuer": Key("url", required=True),
        **CLIENT_KEYS,
        "scopes": Key("strings", default=["openid", "profile", "phone"]),
        # Default: client_secret_basic if the discovery offers it (RFC 6749 §2.3.1), else post.
        "token_auth_method": Key("choice", choices=("client_secret_basic", "client_secret_post")),
        "discovery_ttl_seconds": Key("count", default=3600),
        "leeway_seconds": Key("count", default=60),
        "id_token_algs": Key("strings"),
        "userinfo": Key("bool", default=True),
    }
    DEFAULT_CLAIMS = STANDARD_CLAIMS

    @classmethod
    def check(cls, values: Mapping[str, Any]) -> list[str]:
        problems = []
        scopes = values.get("scopes")
        if isinstance(scopes, list) and "openid" not in scopes:
            problems.append("scopes: must include \"openid\" (OIDC Core §3.1.2.1)")
        algs = values.get("id_token_algs")
        if isinstance(algs, list) and not set(algs) <= set(ASYMMETRIC_ALGS):
            problems.append(f"id_token_algs: only asymmetric algorithms are accepted ({', '.join(ASYMMETRIC_ALGS)})")
        return problems

    def __init__(self, config, *, http, clock=None):
        super().__init__(config, http=http, clock=clock)
        self._issuer = self.options["issuer"]  # compared as an exact string (OIDC Discovery §4.3)
        self.client_id = self.options["client_id"]
        self._lock = threading.Lock()
        self._cache: tuple[datetime, dict[str, Any]] | None = None  # (fetched at, metadata)
        self._keys: KeySet | None = None

    @property
    def issuer(self) -> str:
        return self._issuer

    # --- discovery and keys (the one cache an adapter may hold) --------------------------------
    def metadata(self) -> dict[str, Any]:
        now = self.clock()
        with self._lock:
            cached = self._cache
        if cached and now - cached[0] < timedelta(seconds=self.options["discovery_ttl_seconds"]):
            return cached[1]
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        meta = self.upstream.json("GET", url, what="discovery")
        if not same(self.issuer, meta.get("issuer")):
            raise self.names.invalid("discovery", "发现文档的签发者不符", "discovery issuer mismatch")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(meta.get(key), str):
                raise self.names.invalid("discovery", f"发现文档缺少 {key}", f"discovery lacks {key}")
        self._check_endpoints(meta)
        with self._lock:
            self._cache = (now, meta)
            self._keys = None
        return meta

    def _check_endpoints(self, meta: Mapping[str, Any]) -> None:
        """An https issuer's endpoints must be https too (the config check makes every issuer
        https in production): a discovery document cannot send the back channel, with its
        secrets and codes, over plain http or to a non-URL (SSRF hardening)."""
        secure = urlsplit(self.issuer).scheme == "https"
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"):
            value = meta.get(key)
            if value is None and key == "userinfo_endpoint":
                continue
            scheme = urlsplit(value).scheme if isinstance(value, str) else ""
            if scheme != "https" and (secure or scheme != "http"):
                raise self.names.invalid("discovery", f"发现文档的 {key} 不是 https 地址",
                                         f"discovery {key} is not an https URL")

    def _key_set(self, meta: Mapping[str, Any], refresh: bool = False) -> KeySet:
        with self._lock:
            keys = self._keys
        if keys is not None and not refresh:
            return keys
        body = self.upstream.json("GET", meta["jwks_uri"], what="jwks")
        keys = _import_keys(body.get("keys"))
        if keys is None:
            raise self.names.invalid("jwks", "签名公钥集无效", "unusable JWKS")
        with self._lock:
            self._keys = keys
        return keys

    # --- the two steps --------------------------------------------------------------------------
    def login_url(self, callback_url: str, state: str) -> LoginStart:
        meta = self.metadata()
        nonce = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(48)  # 64 characters, RFC 7636 §4.1
        url = with_query(
            meta["authorization_endpoint"], response_type="code", client_id=self.client_id,
            redirect_uri=callback_url, scope=" ".join(self.options["scopes"]), state=state, nonce=nonce,
            code_challenge=s256(verifier), code_challenge_method="S256")
        opaque = self.opaque(state, callback_url, nonce=nonce, code_verifier=verifier,
                             iss_required=bool(meta.get("authorization_response_iss_parameter_supported")))
        return LoginStart(url, opaque)

    def handle_callback(self, opaque: Mapping[str, Any], params: Mapping[str, str]) -> Identity:
        self.check_callback(opaque, params)
        code = self.code(params)
        meta = self.metadata()
        tokens = self._redeem(meta, code, opaque)
        claims = self._verify_id_token(meta, tokens["id_token"], opaque)
        if self.options["userinfo"] and isinstance(meta.get("userinfo_endpoint"), str):
            info = self._userinfo(meta, tokens.get("access_token"), claims["sub"])
            claims = {**claims, **info, **_protocol(claims)}
        return self.identity(self.issuer, claims)

    def _redeem(self, meta: Mapping[str, Any], code: str, opaque: Mapping[str, Any]) -> dict[str, Any]:
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": opaque.get("redirect_uri"),
                "code_verifier": opaque.get("code_verifier")}
        auth = self.client_auth(self._auth_method(meta), data)
        tokens = self.upstream.json("POST", meta["token_endpoint"], what="token", data=data, auth=auth,
                                    headers={"Accept": "application/json"})
        if not isinstance(tokens.get("id_token"), str):
            raise self.names.invalid("id_token", "缺少身份令牌", "no ID token in the token answer")
        return tokens

    def _auth_method(self, meta: Mapping[str, Any]) -> str:
        if self.options["token_auth_method"]:
            return self.options["token_auth_method"]
        offered = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        return "client_secret_basic" if "client_secret_basic" in offered else "client_secret_post"

    def _verify_id_token(self, meta: Mapping[str, Any], token: str, opaque: Mapping[str, Any]) -> dict[str, Any]:
        header = _header(token)
        allowed = self.options["id_token_algs"] or [
            a for a in meta.get("id_token_signing_alg_values_supported", ["RS256"]) if a in ASYMMETRIC_ALGS]
        if header is None or header.get("alg") not in allowed:
            raise self.names.invalid("signature", "身份令牌的签名算法不可接受", "ID token algorithm not acceptable")
        kid = header.get("kid")
        candidates = _candidates(self._key_set(meta), kid)
        if not candidates:  # an unknown kid: the upstream may have rotated its keys
            log.info("provider %s: unknown kid in ID token, fetching the JWKS again", self.id)
            candidates = _candidates(self._key_set(meta, refresh=True), kid)
        if not candidates:
            raise self.names.invalid("signature", "身份令牌的签名密钥未知", "ID token signed by an unknown key")
        claims = None
        for key in candidates:
            try:
                claims = dict(jwt.decode(token, key, algorithms=[header["alg"]]).claims)
                break
            except (BadSignatureError, JoseError, ValueError):
                continue
        if claims is None:
            raise self.names.invalid("signature", "身份令牌签名无效", "bad ID token signature")
        self._check_claims(claims, opaque)
        return claims

    def _check_claims(self, claims: Mapping[str, Any], opaque: Mapping[str, Any]) -> None:
        """OIDC Core §3.1.3.7 steps 2-4, 9-11."""
        if not same(opaque.get("issuer"), claims.get("iss")):
            raise self.names.invalid("iss", "身份令牌的签发者不符", "ID token issuer mismatch")
        aud = claims.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if self.client_id not in audiences:
            raise self.names.invalid("aud", "身份令牌不是签发给本系统的", "ID token audience mismatch")
        azp = claims.get("azp")
        if (len(audiences) > 1 or azp is not None) and not same(self.client_id, azp):
            raise self.names.invalid("aud", "身份令牌的授权方不符", "ID token azp mismatch")
        now = self.clock().timestamp()
        leeway = self.options["leeway_seconds"]
        exp, iat = claims.get("exp"), claims.get("iat")
        if not _number(exp) or now > exp + leeway:
            raise self.names.invalid("exp", "身份令牌已过期", "ID token expired")
        if not _number(iat) or iat > now + leeway:
            raise self.names.invalid("iat", "身份令牌的签发时间不正确", "ID token issued in the future")
        if not same(opaque.get("nonce"), claims.get("nonce")):
            raise self.names.invalid("nonce", "身份令牌的随机数不符", "ID token nonce mismatch")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise self.names.invalid("subject", "缺少用户标识", "no subject in the ID token")

    def _userinfo(self, meta: Mapping[str, Any], access_token: Any, sub: str) -> dict[str, Any]:
        if not isinstance(access_token, str):
            raise self.names.invalid("token", "缺少访问令牌", "no access token in the token answer")
        info = self.upstream.json("GET", meta["userinfo_endpoint"], what="userinfo",
                                  headers={"Authorization": f"Bearer {access_token}",
                                           "Accept": "application/json"})
        if not same(sub, info.get("sub")):
            raise self.names.invalid("subject", "用户信息与身份令牌不属于同一用户",
                                     "userinfo sub differs from the ID token's")
        return info


def s256(verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL(SHA256(verifier)) without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _protocol(claims: Mapping[str, Any]) -> dict[str, Any]:
    """ID token claims that UserInfo must not override (protocol claims and the subject)."""
    return {k: v for k, v in claims.items() if k in ("iss", "sub", "aud", "exp", "iat", "nonce", "azp", "auth_time",
                                                      "acr", "amr")}


def _header(token: str) -> dict[str, Any] | None:
    try:
        segment = token.split(".")[0]
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, IndexError):
        return None
    return header if isinstance(header, dict) and token.count(".") == 2 else None


def _import_keys(keys: Any) -> KeySet | None:
    """The signing keys of a JWKS; keys we cannot use (encryption keys, odd types) are skipped."""
    if not isinstance(keys, list):
        return None
    usable = []
    for data in keys:
        if not isinstance(data, dict) or data.get("use", "sig") != "sig" or data.get("kty") == "oct":
            continue
        try:
            usable.append(KeySet.import_key_set({"keys": [data]}).keys[0])
        except (JoseError, ValueError, TypeError, KeyError):
            continue
    return KeySet(usable) if usable else None


def _candidates(keys: KeySet, kid: Any) -> list:
    return [k for k in keys if kid is None or k.kid == kid]


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
