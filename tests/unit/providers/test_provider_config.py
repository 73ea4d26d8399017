"""Provider config validation: every problem at once, each naming the provider and the key."""
from __future__ import annotations

import tomllib

import pytest

from config import ConfigError
from providers.registry import build_providers


def problems(tables) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        build_providers(tables)
    return caught.value.problems


def test_every_problem_of_every_provider_at_once():
    found = problems(tomllib.loads('''
[[providers]]
id = "sd-portal"
type = "oidc"
display_name = "山东"
issuer = "not a url"
client_id = "tongxing"
scopes = ["profile"]
timeout_seconds = 0
isuser = "typo"

[[providers]]
id = "bj-yzt"
type = "oauth2"
display_name = "北京"
authorize_url = "http://127.0.0.1:5001/bj-yzt/oauth/authorize"
client_id = "tongxing"
client_secret = "s"
token_auth_method = "private_key_jwt"
[providers.claims]
account_kind = { claim = "data.userType", map = { LEGAL = "company" } }

[[providers]]
type = "saml"
display_name = "x"

[[providers]]
id = "sd-portal"
type = "cas"
cas_url = "http://127.0.0.1:5001/miit/cas"
cas_version = "1.0"
''')["providers"])
    assert sorted(found) == sorted([
        "providers[sd-portal].client_secret: required",
        "providers[sd-portal].issuer: must be an http:// or https:// URL",
        "providers[sd-portal].timeout_seconds: must be a number of seconds between 0 and 120",
        "providers[sd-portal].isuser: unknown key for type 'oidc' (typo?)",
        "providers[sd-portal].scopes: must include \"openid\" (OIDC Core §3.1.2.1)",
        "providers[bj-yzt].token_url: required",
        "providers[bj-yzt].userinfo_url: required",
        "providers[bj-yzt].token_auth_method: must be one of client_secret_basic, client_secret_post",
        "providers[bj-yzt].claims.account_kind.map.LEGAL: must be one of personal, legal (got 'company')",
        "providers[#3].type: must be one of oidc, oauth2, cas, wechat, qq, weibo (got 'saml')",
        "providers[sd-portal].id: duplicate id 'sd-portal' (ids name the callback URL)",
        "providers[sd-portal].display_name: required",
        "providers[sd-portal].cas_version: must be one of 3.0, 2.0",
    ])


@pytest.mark.parametrize("kind, required", [
    ("oidc", ["issuer", "client_id", "client_secret"]),
    ("oauth2", ["authorize_url", "token_url", "userinfo_url", "client_id", "client_secret"]),
    ("cas", ["cas_url"]),
    ("wechat", ["client_id", "client_secret"]),
    ("qq", ["client_id", "client_secret"]),
    ("weibo", ["client_id", "client_secret"]),
])
def test_required_keys_of_each_type(kind, required):
    found = problems([{"id": "p", "type": kind, "display_name": "门户"}])
    assert sorted(found) == sorted(f"providers[p].{key}: required" for key in required)


@pytest.mark.parametrize("pid", ["Upper", "with space", "../x", "", "a" * 64])
def test_id_must_be_a_safe_path_segment(pid):
    found = problems([{"id": pid, "type": "cas", "display_name": "x", "cas_url": "http://h/cas"}])
    assert any(".id: must be" in p or ".id: must be a non-empty string" in p for p in found)


def test_a_single_table_instead_of_an_array_is_explained():
    assert problems({"id": "x", "type": "cas"}) == [
        "providers: must be a list of tables (write [[providers]], not [providers])"]


def test_claims_must_be_a_table_and_keep_a_subject():
    found = problems([{"id": "c", "type": "cas", "display_name": "x", "cas_url": "http://h/cas", "claims": "user"},
                      {"id": "o", "type": "oauth2", "display_name": "x", "authorize_url": "http://h/a",
                       "token_url": "http://h/t", "userinfo_url": "http://h/u", "client_id": "i",
                       "client_secret": "s", "claims": {"subject": {"value": "constant"}}}])
    assert found == ["providers[c].claims: must be a table",
                     "providers[o].claims.subject: required (the claim naming the user at the upstream)"]


def test_oidc_rejects_symmetric_and_none_algorithms():
    found = problems([{"id": "o", "type": "oidc", "display_name": "x", "issuer": "http://h", "client_id": "i",
                       "client_secret": "s", "id_token_algs": ["RS256", "HS256", "none"]}])
    assert found == ["providers[o].id_token_algs: only asymmetric algorithms are accepted "
                     "(RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA)"]


def test_defaults_are_filled_in():
    adapters = build_providers([
        {"id": "wx", "type": "wechat", "display_name": "微信", "client_id": "wxappid", "client_secret": "s"},
        {"id": "miit", "type": "cas", "display_name": "工信部", "cas_url": "https://cas.example.gov/cas/"},
    ])
    wx, miit = adapters["wx"], adapters["miit"]
    assert wx.config.timeout_seconds == 5
    assert (wx.options["api_base"], wx.options["open_base"]) == ("https://api.weixin.qq.com", "https://open.weixin.qq.com")
    assert wx.issuer == "https://open.weixin.qq.com"
    assert miit.options["cas_version"] == "3.0" and miit.issuer == "https://cas.example.gov/cas"


def test_secrets_stay_out_of_reprs():
    adapter = build_providers([{"id": "wx", "type": "wechat", "display_name": "微信", "client_id": "wxappid",
                                "client_secret": "very-secret-value"}])["wx"]
    assert "very-secret-value" not in repr(adapter) + repr(adapter.config)


def test_production_requires_https_provider_urls():
    from sandbox.portals.demo_config import provider_tables

    tables = provider_tables("http://127.0.0.1:5001")
    assert build_providers(tables)                           # fine for development and the demo
    with pytest.raises(ConfigError) as caught:
        build_providers(tables, production=True)
    found = caught.value.problems
    assert "providers[sd-portal].issuer: must be an https:// URL in production" in found
    assert "providers[bj-yzt].token_url: must be an https:// URL in production" in found
    assert "providers[wechat].api_base: must be an https:// URL in production" in found
    assert build_providers(provider_tables("https://portals.example.gov"), production=True)


def test_the_startup_check_applies_the_production_rule(infra):
    from broker.config_check import table_problems
    from sandbox.portals.demo_config import provider_tables
    from tests.conftest import make_settings

    settings = make_settings(infra, providers=provider_tables("http://127.0.0.1:5001"))
    assert table_problems(settings) == []
    import dataclasses
    production = dataclasses.replace(settings, env="production")
    assert "providers[miit].cas_url: must be an https:// URL in production" in table_problems(production)
