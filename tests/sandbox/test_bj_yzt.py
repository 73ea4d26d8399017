"""bj-yzt: plain OAuth 2.0 with client_secret_post and its own userinfo envelope."""
from __future__ import annotations

from urllib.parse import urlencode

from sandbox.testing import portal_login

from .conftest import CALLBACK, CLIENT_ID, SECRET

REDIRECT = CALLBACK.format("bj-yzt")


def _authorize(sandbox, redirect=REDIRECT):
    return f"{sandbox.url}/bj-yzt/oauth/authorize?" + urlencode(
        {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": redirect, "state": "s1", "scope": "user"})


def _token(http, sandbox, code, secret=SECRET):
    return http.post(f"{sandbox.url}/bj-yzt/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": CLIENT_ID, "client_secret": secret})


def test_login_token_and_userinfo_in_the_portals_own_shape(sandbox, http):
    params = portal_login(_authorize(sandbox), "yzt_a", "Portal@2026", http)
    assert params["state"] == "s1" and "iss" not in params
    token = _token(http, sandbox, params["code"]).json()
    assert token["token_type"] == "Bearer"
    body = http.get(f"{sandbox.url}/bj-yzt/api/userinfo",
                    headers={"Authorization": f"Bearer {token['access_token']}"}).json()
    assert body["code"] == 0
    data = body["data"]
    assert data["loginName"] == "yzt_a" and data["userType"] == "LEGAL" and data["certLevel"] == "3"
    assert data["mobile"] == "13800138007" and data["mobileVerified"] is True
    assert data["entName"] == "北京示例科技有限公司" and data["creditCode"] == "91110108MA01BJ2K6M"
    assert data["userId"] and data["realName"]


def test_wrong_secret_used_code_and_bad_token_are_refused(sandbox, http):
    params = portal_login(_authorize(sandbox), "yzt_c", "Portal@2026", http)
    assert _token(http, sandbox, params["code"], secret="nope").json()["error"] == "invalid_client"
    params = portal_login(_authorize(sandbox), "yzt_c", "Portal@2026", http)
    assert _token(http, sandbox, params["code"]).status_code == 200
    assert _token(http, sandbox, params["code"]).json()["error"] == "invalid_grant"
    refused = http.get(f"{sandbox.url}/bj-yzt/api/userinfo", headers={"Authorization": "Bearer forged"})
    assert refused.status_code == 401 and refused.json()["code"] != 0


def test_unknown_redirect_uri_gives_an_error_page(sandbox, http):
    response = http.get(_authorize(sandbox, "http://evil.example/cb"), allow_redirects=False)
    assert response.status_code == 400 and "Location" not in response.headers
    assert "北京市法人一证通" in response.text


def test_token_endpoint_fault(sandbox, http):
    sandbox.faults("bj-yzt")["token_status"] = 503
    params = portal_login(_authorize(sandbox), "yzt_a", "Portal@2026", http)
    assert _token(http, sandbox, params["code"]).status_code == 503
