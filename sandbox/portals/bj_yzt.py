"""``/bj-yzt``: Beijing's legal-person portal, plain OAuth 2.0 (RFC 6749 §4.1), not OIDC: the
token endpoint takes client_secret_post only, and the userinfo API answers in its own envelope
``{"code": 0, "data": {...}}`` (ISSUE4.md)."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from . import codeflow
from .web import Portal, add_login_routes, backchannel_fault, error_page, sandbox

PORTAL = Portal("bj-yzt", "北京市法人一证通统一身份认证", "Beijing YZT (legal-person identity)", "#1d5fa8")
TOKEN_TTL = 7200

bp = Blueprint(PORTAL.id, __name__, url_prefix="/" + PORTAL.id)
add_login_routes(bp, PORTAL)


def _oauth_error(error: str, description: str, status: int = 400):
    return jsonify(error=error, error_description=description), status, {"Cache-Control": "no-store"}


@bp.get("/oauth/authorize")
def authorize():
    args = request.args
    if args.get("response_type") != "code" and args.get("client_id") in sandbox().clients:
        return error_page(PORTAL, "response_type 必须为 code。", "response_type must be code.")
    return codeflow.authorize(PORTAL, args.get("client_id"), args.get("redirect_uri"), args.get("state"),
                              args.get("scope", ""))


@bp.post("/oauth/token")
def token():
    if (failed := backchannel_fault(PORTAL.id, "token")) is not None:
        return failed
    form = request.form
    client = codeflow.client_with_secret(form.get("client_id"), form.get("client_secret"))
    if client is None:   # client_secret_post only (RFC 6749 §2.3.1)
        return _oauth_error("invalid_client", "client authentication failed (client_secret_post)", 401)
    if form.get("grant_type") != "authorization_code":
        return _oauth_error("unsupported_grant_type", "grant_type must be authorization_code")
    grant = codeflow.redeem(PORTAL, client, form.get("code"), form.get("redirect_uri"))
    if grant is None:
        return _oauth_error("invalid_grant", "invalid, used or expired code, or redirect_uri mismatch")
    return jsonify(access_token=codeflow.issue_token(PORTAL, grant), token_type="Bearer", expires_in=TOKEN_TTL,
                   scope=grant.scope), 200, {"Cache-Control": "no-store"}


@bp.get("/api/userinfo")
def userinfo():
    if (failed := backchannel_fault(PORTAL.id, "userinfo")) is not None:
        return failed
    auth = request.headers.get("Authorization", "")
    owner = codeflow.token_owner(PORTAL, auth[7:] if auth.lower().startswith("bearer ") else None)
    if owner is None:
        return jsonify(code=40101, msg="token无效或已过期 (invalid or expired token)", data=None), 401
    account = owner[1]
    return jsonify(code=0, msg="success", data={
        "userId": account.subject, "loginName": account.username, "mobile": account.phone,
        "mobileVerified": account.phone is not None, "realName": account.name,
        "userType": "LEGAL" if account.kind == "legal" else "PERSON", "certLevel": str(account.level),
        "entName": account.enterprise_name, "creditCode": account.uscc,
    })
