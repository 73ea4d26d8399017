"""``/weibo``: Weibo OAuth 2.0 (微博开放平台 OAuth2 manual): ``/oauth2/authorize``,
POST ``/oauth2/access_token`` -> ``{access_token, expires_in, remind_in, uid}``,
``/2/users/show.json`` -> ``{id, idstr, screen_name, name}``. Errors as
``{"error", "error_code", "request"}``. The ``uid`` is global per user, as on Weibo."""
from __future__ import annotations

import hashlib

from flask import Blueprint, jsonify, request

from . import codeflow
from .accounts import PortalAccount
from .web import Portal, add_login_routes, backchannel_fault, sandbox

PORTAL = Portal("weibo", "微博登录", "Weibo login (simulated)", "#e6162d")
TOKEN_TTL = 157679999

bp = Blueprint(PORTAL.id, __name__, url_prefix="/" + PORTAL.id)
add_login_routes(bp, PORTAL)


def uid_of(account: PortalAccount) -> int:
    return 5_000_000_000 + int(hashlib.sha256(account.username.encode()).hexdigest()[:8], 16) % 999_999_999


def _err(error: str, code: int, status: int = 400):
    return jsonify(error=error, error_code=code, request=request.path), status


@bp.get("/oauth2/authorize")
def authorize():
    args = request.args
    return codeflow.authorize(PORTAL, args.get("client_id"), args.get("redirect_uri"), args.get("state"),
                              args.get("scope", ""))


@bp.post("/oauth2/access_token")
def access_token():
    if (failed := backchannel_fault(PORTAL.id, "token")) is not None:
        return failed
    values = request.values   # Weibo takes these in the query or the form body
    client = codeflow.client_with_secret(values.get("client_id"), values.get("client_secret"))
    if client is None:
        return _err("invalid_client", 21324, 401)
    if values.get("grant_type") != "authorization_code":
        return _err("unsupported_grant_type", 21328)
    grant = codeflow.redeem(PORTAL, client, values.get("code"), values.get("redirect_uri"))
    if grant is None:
        return _err("invalid_grant", 21325)
    account = sandbox().accounts.get(PORTAL.id, grant.username)
    return jsonify(access_token=codeflow.issue_token(PORTAL, grant), expires_in=TOKEN_TTL,
                   remind_in=str(TOKEN_TTL), uid=str(uid_of(account)), isRealName="true")


@bp.get("/2/users/show.json")
def users_show():
    if (failed := backchannel_fault(PORTAL.id, "userinfo")) is not None:
        return failed
    owner = codeflow.token_owner(PORTAL, request.args.get("access_token"))
    if owner is None:
        return _err("invalid_access_token", 21332, 401)
    account = owner[1]
    if request.args.get("uid") != str(uid_of(account)):
        return _err("uid and access_token do not match", 21335)
    uid = uid_of(account)
    return jsonify(id=uid, idstr=str(uid), screen_name=account.name, name=account.name, location="",
                   profile_image_url="", gender="m")
