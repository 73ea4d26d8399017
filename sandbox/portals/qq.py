"""``/qq``: QQ Connect (QQ互联 "网站接入" OAuth 2.0 manual): ``/oauth2.0/authorize``,
``/oauth2.0/token`` (``fmt=json`` for JSON, else a query string), ``/oauth2.0/me`` (openid per
app, ``unionid=1`` adds the unionid; JSONP ``callback(...)`` without ``fmt=json``) and
``/user/get_user_info`` (``{"ret": 0, ...}``)."""
from __future__ import annotations

import json
from urllib.parse import urlencode

from flask import Blueprint, jsonify, request

from . import codeflow
from .state import TOKEN_TTL
from .web import Portal, add_login_routes, backchannel_fault

PORTAL = Portal("qq", "QQ 互联登录", "QQ Connect (simulated)", "#12b7f5")

bp = Blueprint(PORTAL.id, __name__, url_prefix="/" + PORTAL.id)
add_login_routes(bp, PORTAL)


def _answer(data: dict, as_json: bool, jsonp: bool = False):
    if as_json:
        return jsonify(data)
    if jsonp:
        return f"callback( {json.dumps(data)} );\n", 200, {"Content-Type": "text/plain; charset=utf-8"}
    return urlencode(data), 200, {"Content-Type": "text/plain; charset=utf-8"}


def _json_wanted() -> bool:
    return request.args.get("fmt") == "json"


def _openid(grant, account) -> str:
    return account.per_app_id(grant.client_id, prefix="").upper()   # QQ openids: 32 hex, upper case


@bp.get("/oauth2.0/authorize")
def authorize():
    args = request.args
    return codeflow.authorize(PORTAL, args.get("client_id"), args.get("redirect_uri"), args.get("state"),
                              args.get("scope", "get_user_info"))


@bp.get("/oauth2.0/token")
def token():
    if (failed := backchannel_fault(PORTAL.id, "token")) is not None:
        return failed
    args = request.args
    client = codeflow.client_with_secret(args.get("client_id"), args.get("client_secret"))
    if client is None:
        return _answer({"error": 100016, "error_description": "client_id or client_secret is wrong"},
                       _json_wanted(), jsonp=True)
    grant = codeflow.redeem(PORTAL, client, args.get("code"), args.get("redirect_uri"))
    if args.get("grant_type") != "authorization_code" or grant is None:
        return _answer({"error": 100019, "error_description": "code to access token error"}, _json_wanted(), jsonp=True)
    return _answer({"access_token": codeflow.issue_token(PORTAL, grant), "expires_in": TOKEN_TTL,
                    "refresh_token": codeflow.issue_token(PORTAL, grant)}, _json_wanted())


@bp.get("/oauth2.0/me")
def me():
    if (failed := backchannel_fault(PORTAL.id, "me")) is not None:
        return failed
    owner = codeflow.token_owner(PORTAL, request.args.get("access_token"))
    if owner is None:
        return _answer({"error": 100016, "error_description": "access token check failed"}, _json_wanted(), jsonp=True)
    grant, account = owner
    data = {"client_id": grant.client_id, "openid": _openid(grant, account)}
    if request.args.get("unionid") == "1":
        data["unionid"] = account.union_id.upper()
    return _answer(data, _json_wanted(), jsonp=True)


@bp.get("/user/get_user_info")
def get_user_info():
    if (failed := backchannel_fault(PORTAL.id, "userinfo")) is not None:
        return failed
    args = request.args
    owner = codeflow.token_owner(PORTAL, args.get("access_token"))
    if owner is None or owner[0].client_id != args.get("oauth_consumer_key"):
        return jsonify(ret=100016, msg="access token check failed")
    grant, account = owner
    if args.get("openid") != _openid(grant, account):
        return jsonify(ret=100030, msg="openid is invalid")
    return jsonify(ret=0, msg="", is_lost=0, nickname=account.name, gender="男",
                   figureurl_qq_1="", figureurl_qq_2="")
