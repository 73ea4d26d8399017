"""The back channel (``providers.http``): what an upstream receives, and the environment's proxy
settings, which ``BackChannel`` reads once per upstream origin instead of on every call."""
from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
import requests

from providers.base import ProviderError
from providers.errors import Names
from providers.http import BackChannel, Upstream
from sandbox.testing import run_server

NAMES = Names("sd-portal", "山东省统一身份认证", "Shandong portal")


def _echo(via: str):
    """A WSGI app answering with what it received, as JSON."""
    def app(environ, start_response):
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = {"via": via, "method": environ["REQUEST_METHOD"], "host": environ.get("HTTP_HOST"),
                "path": environ.get("PATH_INFO"), "query": parse_qs(environ.get("QUERY_STRING", "")),
                "content_type": environ.get("CONTENT_TYPE"), "authorization": environ.get("HTTP_AUTHORIZATION"),
                "form": parse_qs(environ["wsgi.input"].read(size).decode()) if size else {}}
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]
    return app


@pytest.fixture
def upstream():
    base, stop = run_server(_echo("direct"))
    yield base
    stop()


@pytest.fixture
def proxy():
    base, stop = run_server(_echo("proxy"))
    yield base
    stop()


@pytest.fixture
def no_env(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "NETRC", "REQUESTS_CA_BUNDLE",
                 "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_a_form_post_and_a_query_reach_the_upstream_as_requests_would_send_them(upstream, no_env):
    up = Upstream(BackChannel(), 5, NAMES)
    posted = up.json("POST", upstream + "/token", what="token", auth=("tongxing", "s3cret"),
                     data={"grant_type": "authorization_code", "code": "c 1+2", "redirect_uri": None},
                     headers={"Accept": "application/json"})
    assert posted["form"] == {"grant_type": ["authorization_code"], "code": ["c 1+2"]}   # None left out
    assert posted["content_type"] == "application/x-www-form-urlencoded"
    assert posted["authorization"] == "Basic dG9uZ3hpbmc6czNjcmV0"
    got = up.json("GET", upstream + "/me?fmt=json", what="me", params={"access_token": "t/=", "unionid": 1})
    assert got["method"] == "GET" and got["query"] == {"fmt": ["json"], "access_token": ["t/="], "unionid": ["1"]}
    got = up.json("GET", upstream + "/me", what="me", params={"scope": ["openid", None, "phone"], "lang": ("zh",)})
    assert got["query"] == {"scope": ["openid", "phone"], "lang": ["zh"]}   # as requests sends them, no "None"


def _cookie_setter():
    """Sets a cookie on /token; /me answers with the Cookie header it received."""
    def app(environ, start_response):
        if environ["PATH_INFO"] == "/token":
            start_response("200 OK", [("Content-Type", "application/json"), ("Set-Cookie", "sid=user-a; Path=/")])
            return [b"{}"]
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"cookie": environ.get("HTTP_COOKIE")}).encode()]
    return app


def test_no_cookie_from_one_users_call_reaches_the_next_users_calls(no_env):
    """One back-channel session serves every login: it must not carry user A's cookie for user B."""
    base, stop = run_server(_cookie_setter())
    try:
        up = Upstream(BackChannel(), 5, NAMES)
        up.json("POST", base + "/token", what="token", data={"code": "a"})
        assert up.json("GET", base + "/me", what="me")["cookie"] is None
    finally:
        stop()


def test_a_netrc_entry_never_replaces_the_adapters_credentials(upstream, no_env, monkeypatch, tmp_path):
    """``requests`` would put a netrc login for the host in place of the Bearer token."""
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password other\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    got = Upstream(BackChannel(), 5, NAMES).json("GET", upstream + "/userinfo", what="userinfo",
                                                 headers={"Authorization": "Bearer at-1"})
    assert got["authorization"] == "Bearer at-1"


def test_proxies_from_the_environment_are_honoured_per_origin_on_every_call(upstream, proxy, no_env, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    up = Upstream(BackChannel(), 5, NAMES)
    for _ in range(2):   # the second round uses the settings kept for each origin
        assert up.json("GET", upstream + "/a", what="a")["via"] == "direct"
        through = up.json("GET", "http://portal.invalid/b", what="b")   # resolvable by the proxy only
        assert (through["via"], through["host"]) == ("proxy", "portal.invalid")


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/nothing-listens", "http:///no-host"])
def test_a_url_that_cannot_be_reached_or_even_sent_is_unavailable_not_a_crash(url, no_env):
    with pytest.raises(ProviderError) as caught:
        Upstream(requests.Session(), 0.5, NAMES).json("GET", url, what="discovery")
    assert caught.value.code == "upstream_unavailable" and caught.value.retry
