"""QQ Connect (QQ互联《网站应用接入》, OAuth 2.0 on graph.qq.com): ``/oauth2.0/authorize``,
``/oauth2.0/token?fmt=json``, ``/oauth2.0/me?unionid=1&fmt=json`` (-> client_id, openid,
unionid: the ``client_id`` must be ours, else the token was issued to another app) and
``/user/get_user_info`` (``ret`` != 0 is a refusal)."""
from __future__ import annotations

from typing import Any, Mapping

from .adapter import same, with_query
from .base import Identity, LoginStart
from .schema import Key
from .social import SocialAdapter, social_keys


class QQAdapter(SocialAdapter):
    TYPE = "qq"
    KEYS = social_keys("https://graph.qq.com", scopes=Key("strings", default=["get_user_info"]))

    def login_url(self, callback_url: str, state: str) -> LoginStart:
        url = with_query(f"{self.open}/oauth2.0/authorize", response_type="code", client_id=self.options["client_id"],
                         redirect_uri=callback_url, state=state, scope=",".join(self.options["scopes"]))
        return LoginStart(url, self.opaque(state, callback_url))

    def handle_callback(self, opaque: Mapping[str, Any], params: Mapping[str, str]) -> Identity:
        self.check_callback(opaque, params)
        code = self.code(params)
        app_id = self.options["client_id"]
        token = self.upstream.json("GET", f"{self.api}/oauth2.0/token", what="token", params={
            "grant_type": "authorization_code", "client_id": app_id, "client_secret": self.options["client_secret"],
            "code": code, "redirect_uri": opaque.get("redirect_uri"), "fmt": "json"})
        access_token = self.require(token, "access_token", "token")
        me = self.upstream.json("GET", f"{self.api}/oauth2.0/me", what="me",
                                params={"access_token": access_token, "unionid": "1", "fmt": "json"})
        if not same(app_id, str(me.get("client_id", ""))):
            raise self.names.invalid("me", "访问令牌不是签发给本应用的", "the access token belongs to another app")
        openid = self.require(me, "openid", "me")
        info = self.upstream.json("GET", f"{self.api}/user/get_user_info", what="get_user_info", params={
            "access_token": access_token, "oauth_consumer_key": app_id, "openid": openid})
        if str(info.get("ret", "0")) != "0":
            raise self.names.denied(f"ret {info.get('ret')}")
        return self.identity(self.issuer, {**info, "openid": openid, "unionid": me.get("unionid")})
