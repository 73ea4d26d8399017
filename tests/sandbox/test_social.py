"""wechat, qq and weibo: each portal's own code exchange and user endpoints."""
from __future__ import annotations

from urllib.parse import urlencode

from sandbox.testing import portal_login

from .conftest import CALLBACK, CLIENT_ID, SECRET


def test_wechat_qrconnect_token_and_userinfo(sandbox, http):
    start = f"{sandbox.url}/wechat/connect/qrconnect?" + urlencode({
        "appid": CLIENT_ID, "redirect_uri": CALLBACK.format("wechat"), "response_type": "code",
        "scope": "snsapi_login", "state": "w1"})
    params = portal_login(start, "wx_zhang", "Portal@2026", http)
    assert params["state"] == "w1"
    token_url = f"{sandbox.url}/wechat/sns/oauth2/access_token"
    token = http.get(token_url, params={"appid": CLIENT_ID, "secret": SECRET, "code": params["code"],
                                        "grant_type": "authorization_code"}).json()
    assert token["openid"] and token["unionid"] and token["expires_in"] == 7200
    again = http.get(token_url, params={"appid": CLIENT_ID, "secret": SECRET, "code": params["code"],
                                        "grant_type": "authorization_code"}).json()
    assert again == {"errcode": 40029, "errmsg": "invalid code"}
    user = http.get(f"{sandbox.url}/wechat/sns/userinfo",
                    params={"access_token": token["access_token"], "openid": token["openid"]}).json()
    assert user["openid"] == token["openid"] and user["unionid"] == token["unionid"]
    assert user["nickname"] == "微信张三" and "headimgurl" in user
    bad = http.get(f"{sandbox.url}/wechat/sns/userinfo", params={"access_token": "x", "openid": token["openid"]})
    assert bad.json()["errcode"] == 40001


def test_wechat_unknown_redirect_gives_an_error_page(sandbox, http):
    start = f"{sandbox.url}/wechat/connect/qrconnect?" + urlencode({
        "appid": CLIENT_ID, "redirect_uri": "http://evil.example/cb", "response_type": "code",
        "scope": "snsapi_login", "state": "w1"})
    response = http.get(start, allow_redirects=False)
    assert response.status_code == 400 and "微信登录" in response.text


def test_qq_token_me_and_user_info(sandbox, http):
    redirect = CALLBACK.format("qq")
    start = f"{sandbox.url}/qq/oauth2.0/authorize?" + urlencode({
        "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": redirect, "state": "q1",
        "scope": "get_user_info"})
    params = portal_login(start, "qq_zhang", "Portal@2026", http)
    token = http.get(f"{sandbox.url}/qq/oauth2.0/token", params={
        "grant_type": "authorization_code", "client_id": CLIENT_ID, "client_secret": SECRET,
        "code": params["code"], "redirect_uri": redirect, "fmt": "json"}).json()
    me = http.get(f"{sandbox.url}/qq/oauth2.0/me",
                  params={"access_token": token["access_token"], "unionid": "1", "fmt": "json"}).json()
    assert me["client_id"] == CLIENT_ID and me["openid"] and me["unionid"]
    info = http.get(f"{sandbox.url}/qq/user/get_user_info", params={
        "access_token": token["access_token"], "oauth_consumer_key": CLIENT_ID, "openid": me["openid"]}).json()
    assert info["ret"] == 0 and info["nickname"] == "QQ张三"
    jsonp = http.get(f"{sandbox.url}/qq/oauth2.0/me", params={"access_token": token["access_token"]}).text
    assert jsonp.startswith("callback(") and me["openid"] in jsonp


def test_weibo_token_and_users_show(sandbox, http):
    redirect = CALLBACK.format("weibo")
    start = f"{sandbox.url}/weibo/oauth2/authorize?" + urlencode({
        "client_id": CLIENT_ID, "redirect_uri": redirect, "response_type": "code", "state": "b1"})
    params = portal_login(start, "wb_zhang", "Portal@2026", http)
    token = http.post(f"{sandbox.url}/weibo/oauth2/access_token", data={
        "client_id": CLIENT_ID, "client_secret": SECRET, "grant_type": "authorization_code",
        "code": params["code"], "redirect_uri": redirect}).json()
    assert token["uid"].isdigit() and token["access_token"]
    user = http.get(f"{sandbox.url}/weibo/2/users/show.json",
                    params={"access_token": token["access_token"], "uid": token["uid"]}).json()
    assert user["id"] == int(token["uid"]) and user["screen_name"] == "微博张三" and user["name"]
    refused = http.post(f"{sandbox.url}/weibo/oauth2/access_token", data={
        "client_id": CLIENT_ID, "client_secret": "wrong", "grant_type": "authorization_code",
        "code": "x", "redirect_uri": redirect})
    assert refused.status_code == 401 and refused.json()["error_code"] == 21324


def test_social_portals_only_know_their_own_users(sandbox, http):
    start = f"{sandbox.url}/weibo/oauth2/authorize?" + urlencode({
        "client_id": CLIENT_ID, "redirect_uri": CALLBACK.format("weibo"), "response_type": "code"})
    try:
        portal_login(start, "wx_zhang", "Portal@2026", http)
    except AssertionError as error:
        assert "用户名或密码错误" in str(error)
    else:
        raise AssertionError("a WeChat user signed in at Weibo")
