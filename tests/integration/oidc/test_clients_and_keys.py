"""Managing clients and keys: ``broker clients|keys`` and clients declared in the TOML config."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from binding.oauth import OAuthClient, SigningKey
from binding.oauth.clients import CLIENT_CACHE_SECONDS
from binding.oauth.keys import ACTIVE_KEY_CACHE_SECONDS
from broker import create_app
from broker.cli import main
from config import ConfigError, load_settings
from tests.conftest import TEST_SECRET, make_settings

from .conftest import PORTAL, RelyingParty, login


def _broker(infra, *args, config=None):
    env = {"DATABASE_URL": infra["database_url"], "REDIS_URL": infra["redis_url"],
           "BROKER_INSTANCE": infra["instance"], "SECRET_KEY": TEST_SECRET, "BROKER_ENV": "test",
           "BROKER_CONFIG": config}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_clients_add_prints_the_secret_once_and_stores_a_hash(infra, cast, client, clock):
    added = _broker(infra, "clients", "add", "cli-portal", "--name", "CLI portal",
                    "--redirect-uri", f"{PORTAL}/cli-portal/callback", "--scope", "openid profile",
                    "--min-cert-level", "2", "--first-party")
    assert added.exit_code == 0, added.output
    data = json.loads(added.output)
    secret = data["client_secret"]
    assert len(secret) >= 40 and data["policy"]["min_cert_level"] == 2
    with cast() as session:
        row = session.scalar(select(OAuthClient).where(OAuthClient.client_id == "cli-portal"))
        assert row.secret_hash != secret and secret not in json.dumps(row.policy)
    shown = _broker(infra, "clients", "show", "cli-portal")
    assert "client_secret" not in json.loads(shown.output) and secret not in shown.output
    listed = _broker(infra, "clients", "list").output
    assert "cli-portal" in listed and "yt-cloud" in listed and "mobile-app" in listed
    # the new client works with its secret
    login(client, "zhangsan")
    portal = RelyingParty(client, "cli-portal", secret, clock=clock)
    tokens = portal.tokens(scope="openid profile")
    assert portal.verify(tokens["id_token"])["name"] == "zhangsan"
    assert _broker(infra, "clients", "add", "cli-portal", "--redirect-uri", "http://x/cb").exit_code == 1
    removed = _broker(infra, "clients", "remove", "cli-portal")
    assert removed.exit_code == 0
    # Its tokens are dead at once; the worker's client cache forgets it within CLIENT_CACHE_SECONDS.
    assert portal.userinfo(tokens["access_token"]).status_code == 401
    clock.advance(CLIENT_CACHE_SECONDS)
    assert portal.authorize().status_code == 400


def test_clients_add_refuses_a_bad_client(infra, cast):
    result = _broker(infra, "clients", "add", "bad", "--redirect-uri", "http://127.0.0.1:5002/cb#frag")
    assert result.exit_code == 2 and "fragment" in result.output


def test_keys_rotate_and_list(infra, cast, rp, client, clock):
    login(client, "zhangsan")
    smebj = rp("smebj")
    old = smebj.tokens()["id_token"]
    assert _broker(infra, "keys", "rotate").exit_code == 0
    listed = _broker(infra, "keys", "list").output.strip().splitlines()
    assert len([line for line in listed if "ES256" in line]) == 2
    assert sum("active" in line for line in listed) == 1
    # A worker may sign with the key it saw active for ACTIVE_KEY_CACHE_SECONDS; such tokens verify.
    assert smebj.verify(smebj.tokens()["id_token"])["header"]["kid"]
    clock.advance(ACTIVE_KEY_CACHE_SECONDS)
    new = smebj.tokens()["id_token"]
    assert smebj.verify(new)["header"]["kid"] != smebj.verify(old)["header"]["kid"]
    new_kid = smebj.verify(new)["header"]["kid"]
    with cast() as session:
        assert session.scalar(select(SigningKey).where(SigningKey.retired_at.is_(None))).kid == new_kid


def test_clients_from_the_config_file(infra, cast, clock, tmp_path, engine):
    toml = tmp_path / "broker.toml"
    toml.write_text(f'''
[oidc]
access_token_ttl_seconds = 300

[[clients]]
client_id = "toml-portal"
name = "TOML portal"
secret = "toml-portal-secret-0123456789abcdef"
redirect_uris = ["{PORTAL}/toml-portal/callback"]
scopes = ["openid", "profile"]
[clients.policy]
min_cert_level = 3
first_party = true
''')
    settings = load_settings({"BROKER_CONFIG": str(toml)}, {
        "env": "test", "secret_key": TEST_SECRET, "database_url": infra["database_url"],
        "redis_url": infra["redis_url"], "instance_path": infra["instance"]})
    app = create_app(settings, clock=clock)
    http = app.test_client()
    login(http, "lisi")
    portal = RelyingParty(http, "toml-portal", "toml-portal-secret-0123456789abcdef", clock=clock)
    page = portal.authorize(scope="openid profile")
    assert page.status_code == 403, page.headers.get("Location")
    assert 'data-code="cert_level"' in page.get_data(as_text=True)
    listed = _broker(infra, "clients", "list", config=str(toml)).output
    assert "toml-portal" in listed and "config" in listed
    assert _broker(infra, "clients", "remove", "toml-portal", config=str(toml)).exit_code == 1
    app.extensions["tongxing"].dispose()


@pytest.mark.parametrize("clients, message", [
    ([{"client_id": "x", "redirect_uris": ["http://a/cb"]}], "clients[0].secret"),
    ([{"client_id": "x", "secret": "s", "redirect_uris": ["http://a/cb"], "grant_types": ["password"]}],
     "grant_types"),
    ([{"client_id": "x", "public": True, "redirect_uris": ["http://a/cb"], "grant_types": ["client_credentials"]}],
     "client_credentials"),
    ([{"client_id": "x", "secret": "s", "redirect_uris": ["http://a/cb"], "policy": {"min_cert_level": 9}}],
     "min_cert_level"),
    ([{"client_id": "x", "secret": "s", "redirect_uris": ["http://a/cb"], "colour": "red"}], "colour"),
])
def test_bad_config_clients_are_reported(infra, clients, message):
    settings = make_settings(infra, clients=clients)
    with pytest.raises(ConfigError) as info:
        create_app(settings)
    assert any(message in p for p in info.value.problems)


def test_bad_oidc_settings_are_reported(infra):
    settings = make_settings(infra, oidc={"code_ttl_seconds": 0, "default_alg": "HS256", "nope": 1})
    with pytest.raises(ConfigError) as info:
        create_app(settings)
    text = "\n".join(info.value.problems)
    assert "oidc.code_ttl_seconds" in text and "oidc.default_alg" in text and "oidc.nope" in text


def test_production_refuses_demo_client_secrets(infra):
    settings = make_settings(infra, clients=[{"client_id": "x", "secret": "x-demo-secret",
                                              "redirect_uris": ["https://a/cb"]}])
    from binding.oauth import config_client_specs
    import dataclasses
    with pytest.raises(ConfigError) as info:
        config_client_specs(dataclasses.replace(settings, env="production"))
    assert any("demo secrets" in p for p in info.value.problems)


# --- review fixes: removed clients, redirect URI schemes ----------------------------------------
def test_removing_a_client_revokes_its_tokens(infra, cast, rp, client, db, clock):
    from .conftest import add_client

    secret = add_client(db, clock, client_id="gone-portal", secret="gone-portal-secret-0123456789abcdef",
                        redirect_uris=(f"{PORTAL}/gone-portal/callback",), policy={"first_party": True})
    portal = rp("gone-portal", secret=secret)
    login(client, "zhangsan")
    tokens = portal.tokens()
    assert portal.userinfo(tokens["access_token"]).status_code == 200
    assert _broker(infra, "clients", "remove", "gone-portal").exit_code == 0
    answer = portal.userinfo(tokens["access_token"])
    assert answer.status_code == 401 and 'error="invalid_token"' in answer.headers["WWW-Authenticate"]
    assert portal.refresh(tokens["refresh_token"]).status_code in (400, 401)


@pytest.mark.parametrize("uri", ["javascript:alert(1)", "data:text/html,hi", "/relative/callback",
                                 "tongxing-app://callback"])
def test_clients_add_refuses_dangerous_redirect_uris(infra, cast, uri):
    # a private-use scheme is for native (public) apps only (RFC 8252 §7.1)
    result = CliRunner().invoke(main, ["clients", "add", "bad-uri", "--redirect-uri", uri], env={
        "DATABASE_URL": infra["database_url"], "REDIS_URL": infra["redis_url"], "BROKER_INSTANCE": infra["instance"],
        "SECRET_KEY": TEST_SECRET, "BROKER_ENV": "test", "BROKER_CONFIG": None})
    assert result.exit_code == 2 and "redirect_uris" in result.output and uri in result.output


def test_a_native_app_may_use_its_private_scheme(infra, cast):
    added = _broker(infra, "clients", "add", "native-app", "--public", "--redirect-uri", "tongxing-app://cb")
    assert added.exit_code == 0, added.output


def test_production_config_refuses_plain_http_redirects(infra):
    settings = make_settings(infra, clients=[{"client_id": "x", "secret": "s" * 40,
                                              "redirect_uris": ["http://portal.example.cn/cb", "https://ok/cb"],
                                              "post_logout_redirect_uris": ["data:text/html,x"]}])
    from binding.oauth import config_client_specs
    import dataclasses
    with pytest.raises(ConfigError) as info:
        config_client_specs(dataclasses.replace(settings, env="production"))
    text = "\n".join(info.value.problems)
    assert "clients[0].redirect_uris: 'http://portal.example.cn/cb': production requires https" in text
    assert "clients[0].post_logout_redirect_uris" in text and "https://ok/cb" not in text
