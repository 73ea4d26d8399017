"""What the adapters share: config keys, names in messages, the back channel, the callback
checks every protocol needs (state, an ``error`` parameter, a code), and the claim mapping.

An adapter keeps only its configuration (plus, for OIDC, a cache of the discovery document);
everything about one login travels in ``opaque`` (see ``providers.base``)."""
from __future__ import annotations

import hmac
from typing import Any, ClassVar, Mapping
from urllib.parse import urlencode, urlsplit

import requests

from config import Clock, system_clock

from .base import Identity
from .errors import Names
from .http import Upstream
from .schema import Key, ProviderConfig

# The keys of a client registered at an OAuth-style upstream.
CLIENT_KEYS: dict[str, Key] = {
    "client_id": Key("str", required=True),
    "client_secret": Key("secret", required=True),
}


class BaseAdapter:
    TYPE: ClassVar[str] = ""
    KEYS: ClassVar[dict[str, Key]] = {}
    DEFAULT_CLAIMS: ClassVar[dict[str, Any]] = {}

    def __init__(self, config: ProviderConfig, *, http: requests.Session, clock: Clock | None = None):
        self.config = config
        self.id = config.id
        self.type = config.type
        self.display_name = config.display_name
        self.display_name_en = config.display_name_en
        self.logo = config.logo
        self.upgrade_url = config.upgrade_url
        self.options = config.options
        self.clock = clock or system_clock
        self.names = Names(config.id, config.display_name, config.display_name_en)
        self.upstream = Upstream(http, config.timeout_seconds, self.names)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"

    @classmethod
    def check(cls, values: Mapping[str, Any]) -> list[str]:
        """Cross-key problems of this type's config (``key: reason`` each)."""
        return []

    # --- the callback checks ------------------------------------------------------------------
    def check_state(self, opaque: Mapping[str, Any], params: Mapping[str, str]) -> None:
        """The broker checks ``state`` against the browser session too; this second, constant-time
        check ties the callback to the opaque data it is about to trust (RFC 6749 §10.12)."""
        if not same(opaque.get("state"), params.get("state")):
            raise self.names.invalid("state", "登录状态不匹配", "state mismatch")

    @property
    def issuer(self) -> str:
        """The string naming this portal: the issuer of its identities and of its callbacks."""
        raise NotImplementedError

    def check_issuer(self, opaque: Mapping[str, Any], params: Mapping[str, str]) -> None:
        """Mix-up defence for every type (RFC 9207 §2.4): the login was started at this issuer
        (kept in ``opaque``), and an ``iss`` in the callback, whenever present, names it too;
        it must be present when the portal promised to send it (``iss_required``)."""
        expected = opaque.get("issuer")
        if not same(self.issuer, expected):
            raise self.names.invalid("iss", "登录请求与本门户不符", "login was not started at this issuer")
        if "iss" in params:
            if not same(expected, params.get("iss")):
                raise self.names.invalid("iss", "应答来自其他签发者（混淆攻击防护）",
                                         "the answer names another issuer (mix-up defence)")
        elif opaque.get("iss_required"):
            raise self.names.invalid("iss", "应答缺少签发者参数", "the answer lacks the iss parameter")

    def check_callback(self, opaque: Mapping[str, Any], params: Mapping[str, str]) -> None:
        """The checks every callback gets first: state, issuer, an error answer."""
        self.check_state(opaque, params)
        self.check_issuer(opaque, params)
        self.check_error(params)

    def check_error(self, params: Mapping[str, str]) -> None:
        """RFC 6749 §4.1.2.1: ``error=access_denied`` and friends mean the upstream refused."""
        if params.get("error"):
            raise self.names.denied(params["error"])

    def code(self, params: Mapping[str, str]) -> str:
        """The authorization code; none means the user did not complete the login (WeChat, for
        one, comes back with only ``state`` when the user declines)."""
        code = params.get("code")
        if not code:
            raise self.names.denied("cancelled")
        return code

    def identity(self, issuer: str, claims: Mapping[str, Any]) -> Identity:
        return self.config.claims.identity(self.id, issuer, claims, self.names)

    # --- shared by the OAuth-style adapters ---------------------------------------------------
    def opaque(self, state: str, callback_url: str, **extra: Any) -> dict[str, Any]:
        """What the callback needs back: ``state``, the redirect URI to redeem the code with
        (RFC 6749 §4.1.3), the issuer expected (RFC 9207 mix-up defence) and ``extra``."""
        return {"state": state, "redirect_uri": callback_url, "issuer": self.issuer, **extra}

    def client_auth(self, method: str, data: dict[str, Any]) -> tuple[str, str] | None:
        """Client authentication at the token endpoint (RFC 6749 §2.3.1): for
        ``client_secret_basic`` the HTTP Basic credentials to send; for ``client_secret_post``
        None, with client_id and client_secret added to the form ``data``."""
        client_id, secret = self.options["client_id"], self.options["client_secret"]
        if method == "client_secret_basic":
            return client_id, secret
        data.update(client_id=client_id, client_secret=secret)
        return None


def same(expected: Any, got: Any) -> bool:
    """Constant-time equality of two strings; False when either is missing."""
    if not isinstance(expected, str) or not isinstance(got, str) or not expected:
        return False
    return hmac.compare_digest(expected.encode(), got.encode())


def with_query(url: str, **params: Any) -> str:
    """``url`` with ``params`` appended to its query (kept: the portal's own parameters)."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{url}{'&' if urlsplit(url).query else '?'}{query}"


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
