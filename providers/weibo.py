"""Weibo (微博开放平台 OAuth2 文档): ``/oauth2/authorize``, POST ``/oauth2/access_token``
(-> access_token, uid) and ``/2/users/show.json`` whose ``id`` must be that uid. Errors come
as ``{"error": ..., "error_code": 21325}``. The subject is the uid."""
from __future__ import annotations

from typing import Any, Mapping

from .adapter import with_query
from .base import Identity, LoginStart
from .social import SocialAdapter, social_keys


class WeiboAdapter(SocialAdapter):
    TYPE = "weibo"
    KEYS = social_keys("https://api.weibo.com")
    DEFAULT_CLAIMS = {"subject": "uid", "name": "screen_name"}

    def login_url(self, callback_url: str, state: str) -> LoginStart:
        url = with_query(f"{self.open}/oauth2/authorize", client_id=self.options["client_id"],
                         redirect_uri=callback_url, response_type="code", state=state)
        return LoginStart(url, self.opaque(state, callback_url))

    def handle_callback(self, opaque: Mapping[str, Any], params: Mapping[str, str]) -> Identity:
        self.check_callback(opaque, params)
        code = self.code(params)
        token = self.upstream.json("POST", f"{self.api}/oauth2/access_token", what="access_token", data={
            "client_id": self.options["client_id"], "client_secret": self.options["client_secret"],
            "grant_type": "authorization_code", "code": code, "redirect_uri": opaque.get("redirect_uri")})
        access_token = self.require(token, "access_token", "access_token")
        uid = self.require(token, "uid", "access_token")
        info = self.upstream.json("GET", f"{self.api}/2/users/show.json", what="users/show",
                                  params={"access_token": access_token, "uid": uid})
        self.check_same(uid, info.get("idstr", info.get("id")), "users/show")
        return self.identity(self.issuer, {**info, "uid": uid})
