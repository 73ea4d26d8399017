"""Plain OAuth 2.0 upstreams (portals that are not OIDC): authorization code grant (RFC 6749
§4.1) + a token endpoint + the portal's own userinfo endpoint, PKCE (RFC 7636) when configured.

The identity's issuer is the configured ``issuer`` (a fixed string naming the portal) or the
authorize URL's origin. With an explicit ``issuer``, an ``iss`` callback parameter (RFC 9207)
must equal it. The userinfo answer is mapped by the claims table (dotted paths for nested
shapes such as ``data.userId``)."""
from __future__ import annotations

import secrets
from typing import Any, Mapping

from .adapter import CLIENT_KEYS, BaseAdapter, origin, with_query
from .base import Identity, LoginStart
from .oidc import STANDARD_CLAIMS, s256
from .schema import Key


class OAuth2Adapter(BaseAdapter):
    TYPE = "oauth2"
    KEYS = {
        "authorize_url": Key("url", required=True),
        "token_url": Key("url", required=True),
        "userinfo_url": Key("url", required=True),
        **CLIENT_KEYS,
        "scopes": Key("strings"),
        "token_auth_method": Key("choice", default="client_secret_basic",
                                 choices=("client_secret_basic", "client_secret_post")),
        "pkce": Key("bool", default=False),
        "issuer": Key("str"),
    }
    DEFAULT_CLAIMS = STANDARD_CLAIMS

    @property
    def issuer(self) -> str:
        return self.options["issuer"] or origin(self.options["authorize_url"])

    def login_url(self, callback_url: str, state: str) -> LoginStart:
        opaque = self.opaque(state, callback_url)
        challenge = {}
        if self.options["pkce"]:
            opaque["code_verifier"] = secrets.token_urlsafe(48)
            challenge = {"code_challenge": s256(opaque["code_verifier"]), "code_challenge_method": "S256"}
        scopes = self.options["scopes"]
        url = with_query(self.options["authorize_url"], response_type="code", client_id=self.options["client_id"],
                         redirect_uri=callback_url, scope=" ".join(scopes) if scopes else None, state=state,
                         **challenge)
        return LoginStart(url, opaque)

    def handle_callback(self, opaque: Mapping[str, Any], params: Mapping[str, str]) -> Identity:
        self.check_callback(opaque, params)
        token = self._redeem(self.code(params), opaque)
        info = self.upstream.json("GET", self.options["userinfo_url"], what="userinfo",
                                  headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
        return self.identity(self.issuer, info)

    def _redeem(self, code: str, opaque: Mapping[str, Any]) -> str:
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": opaque.get("redirect_uri")}
        if opaque.get("code_verifier"):
            data["code_verifier"] = opaque["code_verifier"]
        auth = self.client_auth(self.options["token_auth_method"], data)
        tokens = self.upstream.json("POST", self.options["token_url"], what="token", data=data, auth=auth,
                                    headers={"Accept": "application/json"})
        token = tokens.get("access_token")
        if not isinstance(token, str) or not token:
            raise self.names.invalid("token", "缺少访问令牌", "no access token in the token answer")
        return token
