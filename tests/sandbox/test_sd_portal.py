"""sd-portal as an OpenID Connect relying party sees it: discovery, JWKS, the code flow with
PKCE, ID token checks, userinfo, the upgrade button and the fault switch."""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from urllib.parse import urlencode

import pytest
import requests
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from sandbox.portals import rotate_signing_key
from sandbox.testing import portal_login

from .conftest import CALLBACK, CLIENT_ID, SECRET

REDIRECT = CALLBACK.format("sd-portal")


def _pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _authorize_url(sandbox, state="st-1", nonce="n-1", challenge=None, scope="openid profile phone", **extra):
    params = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "scope": scope,
              "state": state, "nonce": nonce, **extra}
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    return f"{sandbox.url}/sd-portal/authorize?{urlencode(params)}"


def _exchange(http, sandbox, code, verifier=None, post_auth=False):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    if verifier:
        data["code_verifier"] = verifier
    if post_auth:
        return http.post(f"{sandbox.url}/sd-portal/token", data=dict(data, client_id=CLIENT_ID, client_secret=SECRET))
    return http.post(f"{sandbox.url}/sd-portal/token", data=data, auth=(CLIENT_ID, SECRET))


def _login_and_token(http, sandbox, username="sd_zhang", nonce="n-1"):
    verifier, challenge = _pkce()
    params = portal_login(_authorize_url(sandbox, nonce=nonce, challenge=challenge), username, "Portal@2026", http)
    response = _exchange(http, sandbox, params["code"], verifier)
    assert response.status_code == 200, response.text
    return params, response.json()


def _claims(http, sandbox, id_token, nonce="n-1"):
    keys = KeySet.import_key_set(http.get(f"{sandbox.url}/sd-portal/jwks").json())
    token = jwt.decode(id_token, keys, algorithms=["RS256"])
    JWTClaimsRegistry(iss={"essential": True, "value": f"{sandbox.url}/sd-portal"},
                      aud={"essential": True, "value": CLIENT_ID},
                      nonce={"essential": True, "value": nonce},
                      exp={"essential": True}).validate(token.claims)
    return token


def test_discovery_and_jwks_describe_an_rs256_provider(sandbox, http):
    meta = http.get(f"{sandbox.url}/sd-portal/.well-known/openid-configuration").json()
    assert meta["issuer"] == f"{sandbox.url}/sd-portal"
    for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
        assert meta[name].startswith(meta["issuer"] + "/")
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert set(meta["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post"}
    keys = http.get(meta["jwks_uri"]).json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "RSA" and keys[0]["kid"] and keys[0]["alg"] == "RS256"
    assert "d" not in keys[0]   # public part only


def test_code_flow_with_pkce_gives_a_valid_id_token_and_userinfo(sandbox, http):
    params, tokens = _login_and_token(http, sandbox)
    assert params["state"] == "st-1" and params["iss"] == f"{sandbox.url}/sd-portal"   # RFC 9207
    claims = _claims(http, sandbox, tokens["id_token"]).claims
    assert claims["preferred_username"] == "sd_zhang" and claims["auth_level"] == 3
    assert claims["phone_number"] == "13800138001" and claims["phone_number_verified"] is True
    assert claims["user_type"] == "natural"
    info = http.get(f"{sandbox.url}/sd-portal/userinfo",
                    headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    assert info["sub"] == claims["sub"] and info["name"] == "张三"


def test_legal_account_carries_its_enterprise(sandbox, http):
    _, tokens = _login_and_token(http, sandbox, "sd_legal_b")
    claims = _claims(http, sandbox, tokens["id_token"]).claims
    assert claims["user_type"] == "legal"
    assert claims["org_name"] == "烟台示例新材料有限公司" and claims["uscc"] == "91370600MA3YT0C83M"


def test_client_secret_post_works_and_a_code_works_once(sandbox, http):
    verifier, challenge = _pkce()
    params = portal_login(_authorize_url(sandbox, challenge=challenge), "sd_new", "Portal@2026", http)
    assert _exchange(http, sandbox, params["code"], verifier, post_auth=True).status_code == 200
    again = _exchange(http, sandbox, params["code"], verifier, post_auth=True)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_wrong_pkce_verifier_and_wrong_secret_are_refused(sandbox, http):
    _, challenge = _pkce()
    params = portal_login(_authorize_url(sandbox, challenge=challenge), "sd_new", "Portal@2026", http)
    refused = _exchange(http, sandbox, params["code"], "not-the-verifier-" + "x" * 40)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    params = portal_login(_authorize_url(sandbox), "sd_new", "Portal@2026", http)
    bad = http.post(f"{sandbox.url}/sd-portal/token", auth=(CLIENT_ID, "wrong"),
                    data={"grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT})
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"


def test_signed_in_user_gets_a_code_without_the_form_again(sandbox, http):
    portal_login(_authorize_url(sandbox), "sd_zhang", "Portal@2026", http)
    response = http.get(_authorize_url(sandbox, state="second"), allow_redirects=False)
    assert response.status_code == 302 and response.headers["Location"].startswith(REDIRECT + "?code=")


def test_upgrade_button_raises_the_level_in_the_next_login(sandbox, http):
    _, tokens = _login_and_token(http, sandbox, "sd_low")
    assert _claims(http, sandbox, tokens["id_token"]).claims["auth_level"] == 2
    page = http.get(f"{sandbox.url}/sd-portal/account/upgrade")
    assert 'id="upgrade-level"' in page.text and "山东省统一身份认证平台" in page.text
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    done = http.post(f"{sandbox.url}/sd-portal/account/upgrade", data={"csrf_token": csrf})
    assert done.status_code == 200 and 'id="account-level">3<' in done.text
    _, tokens = _login_and_token(http, sandbox, "sd_low")
    assert _claims(http, sandbox, tokens["id_token"]).claims["auth_level"] == 3
    info = http.get(f"{sandbox.url}/sd-portal/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.json()["auth_level"] == 3


def test_upgrade_without_the_form_token_changes_nothing(sandbox, http):
    portal_login(_authorize_url(sandbox), "sd_low", "Portal@2026", http)
    http.post(f"{sandbox.url}/sd-portal/account/upgrade", data={"csrf_token": "forged"})
    assert 'id="account-level">2<' in http.get(f"{sandbox.url}/sd-portal/account").text


def test_unknown_redirect_uri_or_client_gives_an_error_page(sandbox, http):
    url = _authorize_url(sandbox).replace("5999", "6666")
    response = http.get(url, allow_redirects=False)
    assert response.status_code == 400 and "Location" not in response.headers
    assert "山东省统一身份认证平台" in response.text and 'id="portal-error"' in response.text
    response = http.get(_authorize_url(sandbox).replace(CLIENT_ID, "nobody"), allow_redirects=False)
    assert response.status_code == 400 and "Location" not in response.headers


def test_wrong_password_shows_an_error_on_the_login_page(sandbox, http):
    with pytest.raises(AssertionError, match="用户名或密码错误"):
        portal_login(_authorize_url(sandbox), "sd_zhang", "wrong", http)


# --- the fault switch ------------------------------------------------------------------------
def test_fault_wrong_nonce_iss_aud_and_expired(sandbox, http):
    sandbox.faults("sd-portal").update(id_token_nonce="wrong", id_token_iss="http://evil",
                                       id_token_aud="someone-else", id_token_expired=True)
    _, tokens = _login_and_token(http, sandbox)
    keys = KeySet.import_key_set(http.get(f"{sandbox.url}/sd-portal/jwks").json())
    claims = jwt.decode(tokens["id_token"], keys).claims   # still properly signed
    assert claims["nonce"] == "wrong" and claims["iss"] == "http://evil" and claims["aud"] == "someone-else"
    assert claims["exp"] < time.time()


def test_fault_signature_by_an_unknown_key(sandbox, http):
    sandbox.faults("sd-portal")["id_token_sign_with_other_key"] = True
    _, tokens = _login_and_token(http, sandbox)
    keys = KeySet.import_key_set(http.get(f"{sandbox.url}/sd-portal/jwks").json())
    header = json.loads(base64.urlsafe_b64decode(tokens["id_token"].split(".")[0] + "=="))
    assert header["kid"] not in {k.kid for k in keys}
    with pytest.raises(BadSignatureError):   # checked against the published key anyway
        jwt.decode(tokens["id_token"], keys.keys[0])


def test_fault_wrong_iss_in_authorization_response(sandbox, http):
    sandbox.faults("sd-portal")["iss_param"] = "http://evil"
    params = portal_login(_authorize_url(sandbox), "sd_zhang", "Portal@2026", http)
    assert params["iss"] == "http://evil"


def test_fault_token_endpoint_500_and_slow(sandbox, http):
    sandbox.faults("sd-portal")["token_status"] = 500
    params = portal_login(_authorize_url(sandbox), "sd_zhang", "Portal@2026", http)
    assert _exchange(http, sandbox, params["code"]).status_code == 500
    sandbox.faults("sd-portal").update(token_status=None, slow_seconds=1)
    with pytest.raises(requests.Timeout):
        http.post(f"{sandbox.url}/sd-portal/token", data={}, timeout=0.3)


def test_rotated_key_appears_in_jwks_and_signs_new_tokens(sandbox, http):
    old = {k["kid"] for k in http.get(f"{sandbox.url}/sd-portal/jwks").json()["keys"]}
    new_kid = rotate_signing_key(sandbox.app)
    via_http = http.post(f"{sandbox.url}/sd-portal/_sandbox/rotate-key").json()["kid"]
    kids = {k["kid"] for k in http.get(f"{sandbox.url}/sd-portal/jwks").json()["keys"]}
    assert kids == old | {new_kid, via_http}
    _, tokens = _login_and_token(http, sandbox)
    assert _claims(http, sandbox, tokens["id_token"]).header["kid"] == via_http


def test_upgrade_page_links_back_only_to_a_registered_site(sandbox, http):
    portal_login(_authorize_url(sandbox), "sd_low", "Portal@2026", http)
    back = "http://127.0.0.1:5999/federation/upgrade-required"
    assert 'id="return-to"' in http.get(f"{sandbox.url}/sd-portal/account/upgrade", params={"return_to": back}).text
    evil = http.get(f"{sandbox.url}/sd-portal/account/upgrade", params={"return_to": "http://evil.example/x"})
    assert 'id="return-to"' not in evil.text and 'id="upgrade-level"' in evil.text
