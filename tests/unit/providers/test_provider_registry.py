"""The registry: type name -> adapter class; build_providers wires config, HTTP and clock."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from providers.adapter import BaseAdapter
from providers.base import LoginStart
from providers.http import parse_json_object
from providers.registry import ADAPTER_TYPES, build_providers
from providers.schema import Key

SOCIAL = {"client_id": "app-1", "client_secret": "s"}
TABLES = [
    {"id": "sd-portal", "type": "oidc", "display_name": "山东", "issuer": "https://idp.example/sd", **SOCIAL},
    {"id": "bj-yzt", "type": "oauth2", "display_name": "北京", "authorize_url": "https://yzt.example/oauth/authorize",
     "token_url": "https://yzt.example/oauth/token", "userinfo_url": "https://yzt.example/api/userinfo", **SOCIAL},
    {"id": "miit", "type": "cas", "display_name": "工信部", "cas_url": "https://cas.example/cas"},
    {"id": "wechat", "type": "wechat", "display_name": "微信", "logo": "/static/wx.svg", **SOCIAL},
    {"id": "qq", "type": "qq", "display_name": "QQ", **SOCIAL},
    {"id": "weibo", "type": "weibo", "display_name": "微博", "display_name_en": "Weibo", **SOCIAL},
]


def test_every_type_is_registered_under_its_name():
    assert list(ADAPTER_TYPES) == ["oidc", "oauth2", "cas", "wechat", "qq", "weibo"]
    assert all(cls.TYPE == name for name, cls in ADAPTER_TYPES.items())


def test_build_providers_keeps_config_order_and_shares_the_session():
    http = requests.Session()
    adapters = build_providers(TABLES, http=http)
    assert list(adapters) == [t["id"] for t in TABLES]
    assert [type(a) for a in adapters.values()] == list(ADAPTER_TYPES.values())
    assert all(a.upstream.session is http for a in adapters.values())
    assert adapters["wechat"].logo == "/static/wx.svg" and adapters["weibo"].display_name_en == "Weibo"


def test_no_providers_is_fine():
    assert build_providers(None) == {} and build_providers([]) == {}


def test_a_new_protocol_is_one_class_and_one_entry(monkeypatch):
    class Saml(BaseAdapter):
        TYPE = "saml"
        KEYS = {"metadata_url": Key("url", required=True)}
        DEFAULT_CLAIMS = {"subject": "NameID"}

        def login_url(self, callback_url, state):
            return LoginStart(self.options["metadata_url"], {"state": state})

    monkeypatch.setitem(ADAPTER_TYPES, "saml", Saml)
    adapter = build_providers([{"id": "s", "type": "saml", "display_name": "S", "metadata_url": "https://x/md"}])["s"]
    assert adapter.login_url("cb", "st").opaque == {"state": "st"}


@pytest.mark.parametrize("pid, host, expected", [
    ("bj-yzt", "https://yzt.example/oauth/authorize",
     {"response_type": "code", "client_id": "app-1", "redirect_uri": "CB", "state": "ST"}),
    ("wechat", "https://open.weixin.qq.com/connect/qrconnect",
     {"appid": "app-1", "redirect_uri": "CB", "response_type": "code", "scope": "snsapi_login", "state": "ST"}),
    ("qq", "https://graph.qq.com/oauth2.0/authorize",
     {"response_type": "code", "client_id": "app-1", "redirect_uri": "CB", "state": "ST", "scope": "get_user_info"}),
    ("weibo", "https://api.weibo.com/oauth2/authorize",
     {"client_id": "app-1", "redirect_uri": "CB", "response_type": "code", "state": "ST"}),
    ("miit", "https://cas.example/cas/login", {"service": "CB?state=ST"}),
])
def test_login_urls_point_at_the_real_hosts_by_default(pid, host, expected):
    start = build_providers(TABLES)[pid].login_url("CB", "ST")
    parts = urlsplit(start.url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == host
    assert {k: v[0] for k, v in parse_qs(parts.query).items()} == expected
    assert start.opaque["state"] == "ST"
    assert "s" not in start.opaque.values()   # the client secret never travels with the browser


def test_wechat_asks_for_the_qr_page():
    assert build_providers(TABLES)["wechat"].login_url("CB", "ST").url.endswith("#wechat_redirect")


@pytest.mark.parametrize("text, expected", [
    ('{"openid": "A"}', {"openid": "A"}),
    ('callback( {"client_id": "1", "openid": "A"} );\n', {"client_id": "1", "openid": "A"}),
    ("access_token=x&expires_in=1", None), ("[1]", None), ("", None),
])
def test_json_and_jsonp_answers(text, expected):
    assert parse_json_object(text) == expected
