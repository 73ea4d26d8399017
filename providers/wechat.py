"""WeChat website login (微信开放平台《网站应用微信登录开发指南》): the PC QR-code page
``open.weixin.qq.com/connect/qrconnect`` with ``scope=snsapi_login``, then
``api.weixin.qq.com/sns/oauth2/access_token`` (code -> access_token, openid, unionid) and
``/sns/userinfo``. Errors come as ``{"errcode": 40029, "errmsg": ...}`` with HTTP 200
(upstream_denied). The subject is the ``unionid`` when the app is bound to an Open Platform
account (the same person across the operator's apps), else the per-app ``openid``."""
from __future__ import annotations

from typing import Any, Mapping

from .adapter import with_query
from .base import Identity, LoginStart
from .schema import Key
from .social import SocialAdapter, social_keys


class WeChatAdapter(SocialAdapter):
    TYPE = "wechat"
    KEYS = social_keys("https://api.weixin.qq.com", open_base=Key("url", default="https://open.weixin.qq.com"),
                              scopes=Key("strings", default=["snsapi_login"]))

    def login_url(self, callback_url: str, state: str) -> LoginStart:
        url = with_query(f"{self.open}/connect/qrconnect", appid=self.options["client_id"], redirect_uri=callback_url,
                         response_type="code", scope=",".join(self.options["scopes"]), state=state)
        return LoginStart(url + "#wechat_redirect", self.opaque(state, callback_url))

    def handle_callback(self, opaque: Mapping[str, Any], params: Mapping[str, str]) -> Identity:
        self.check_callback(opaque, params)
        code = self.code(params)  # a user who declines comes back with state only
        token = self.upstream.json("GET", f"{self.api}/sns/oauth2/access_token", what="access_token", params={
            "appid": self.options["client_id"], "secret": self.options["client_secret"], "code": code,
            "grant_type": "authorization_code"})
        access_token = self.require(token, "access_token", "access_token")
        openid = self.require(token, "openid", "access_token")
        info = self.upstream.json("GET", f"{self.api}/sns/userinfo", what="userinfo",
                                  params={"access_token": access_token, "openid": openid})
        self.check_same(openid, info.get("openid"), "userinfo")
        claims = {**info, "openid": openid, "unionid": info.get("unionid") or token.get("unionid")}
        return self.identity(self.issuer, claims)
