"""``/wechat``: WeChat web login (微信开放平台 "网站应用微信登录" manual): ``qrconnect`` shows the
"scan" (here: the login form), ``/sns/oauth2/access_token`` swaps the code for a token with the
app's ``appid``/``secret``, ``/sns/userinfo`` answers ``openid`` (per app) and ``unionid``
(per user). Errors are ``{"errcode": ..., "errmsg": ...}`` with HTTP 200, as WeChat does."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from . import codeflow
from .state import TOKEN_TTL
from .web import Portal, add_login_routes, backchannel_fault, error_page, sandbox

PORTAL = Portal("wechat", "微信登录", "WeChat login (simulated)", "#07c160",
                login_heading="微信扫码登录（模拟：输入测试账号代替扫码确认）Scan with WeChat (simulated)")

bp = Blueprint(PORTAL.id, __name__, url_prefix="/" + PORTAL.id)
add_login_routes(bp, PORTAL)


def _err(code: int, message: str):
    return jsonify(errcode=code, errmsg=message)


@bp.get("/connect/qrconnect")
def qrconnect():
    args = request.args
    if "snsapi_login" not in (args.get("scope") or "").split(","):
        return error_page(PORTAL, "Scope 参数错误或没有 Scope 权限。", "scope must be snsapi_login.")
    if args.get("response_type") != "code":
        return error_page(PORTAL, "response_type 参数错误。", "response_type must be code.")
    return codeflow.authorize(PORTAL, args.get("appid"), args.get("redirect_uri"), args.get("state"), "snsapi_login")


@bp.get("/sns/oauth2/access_token")
def access_token():
    if (failed := backchannel_fault(PORTAL.id, "token")) is not None:
        return failed
    args = request.args
    if args.get("appid") not in sandbox().clients:
        return _err(40013, "invalid appid")
    client = codeflow.client_with_secret(args.get("appid"), args.get("secret"))
    if client is None:
        return _err(40125, "invalid appsecret")
    if args.get("grant_type") != "authorization_code":
        return _err(40002, "invalid grant_type")
    grant = codeflow.redeem(PORTAL, client, args.get("code"))
    if grant is None:
        return _err(40029, "invalid code")
    account = sandbox().accounts.get(PORTAL.id, grant.username)
    return jsonify(access_token=codeflow.issue_token(PORTAL, grant), expires_in=TOKEN_TTL,
                   refresh_token=codeflow.issue_token(PORTAL, grant), openid=account.per_app_id(client.client_id),
                   scope=grant.scope, unionid=account.union_id)


@bp.get("/sns/userinfo")
def userinfo():
    if (failed := backchannel_fault(PORTAL.id, "userinfo")) is not None:
        return failed
    owner = codeflow.token_owner(PORTAL, request.args.get("access_token"))
    if owner is None:
        return _err(40001, "invalid credential, access_token is invalid or not latest")
    grant, account = owner
    openid = account.per_app_id(grant.client_id)
    if request.args.get("openid") != openid:
        return _err(40003, "invalid openid")
    return jsonify(openid=openid, nickname=account.name, sex=0, language="zh_CN", city="", province="",
                   country="CN", headimgurl="", privilege=[],
                   unionid=account.union_id)
