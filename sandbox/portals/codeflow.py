"""The authorization-code steps the non-OIDC portals (bj-yzt, wechat, qq, weibo) share; each
portal wraps them in its own parameter names and error shapes (RFC 6749 §4.1)."""
from __future__ import annotations

from dataclasses import dataclass

from authlib.common.urls import add_params_to_uri
from flask import redirect

from .accounts import PortalAccount
from .state import CODE_TTL, TOKEN_TTL, SandboxClient
from .web import Portal, error_page, sandbox, signed_in, to_login


@dataclass(frozen=True)
class Grant:
    """What a code or access token stands for."""

    client_id: str
    redirect_uri: str
    username: str
    scope: str


def authorize(portal: Portal, client_id: str | None, redirect_uri: str | None, state: str | None,
              scope: str = ""):
    """Check the client and the exact redirect URI (an error page otherwise, never a redirect),
    sign the user in at the portal if needed, then redirect back with ``code`` and ``state``."""
    client = sandbox().clients.get(client_id or "")
    if client is None:
        return error_page(portal, "未注册的应用（client_id / appid 无效）。", "Unknown application (client_id / appid).")
    if not client.allows_redirect(redirect_uri):
        return error_page(portal, "redirect_uri 参数错误：与应用登记的回调地址不一致。",
                          "redirect_uri does not match the application's registered callback.")
    account = signed_in(portal)
    if account is None:
        return to_login(portal)
    code = sandbox().store.put(f"{portal.id}-code", Grant(client.client_id, redirect_uri, account.username, scope),
                               CODE_TTL)
    params = {"code": code, **({"state": state} if state else {})}
    return redirect(add_params_to_uri(redirect_uri, params), code=302)


def client_with_secret(client_id: str | None, secret: str | None) -> SandboxClient | None:
    client = sandbox().clients.get(client_id or "")
    return client if client and client.check_secret(secret) else None


def redeem(portal: Portal, client: SandboxClient, code: str | None, redirect_uri: str | None = None) -> Grant | None:
    """The code's grant if it was issued to this client (and this redirect URI, when given).
    A code is removed at the first attempt, so it never works twice."""
    grant = sandbox().store.take(f"{portal.id}-code", code)
    if grant is None or grant.client_id != client.client_id:
        return None
    if redirect_uri is not None and redirect_uri != grant.redirect_uri:
        return None
    return grant


def issue_token(portal: Portal, grant: Grant) -> str:
    return sandbox().store.put(f"{portal.id}-token", grant, TOKEN_TTL)


def token_owner(portal: Portal, token: str | None) -> tuple[Grant, PortalAccount] | None:
    grant = sandbox().store.get(f"{portal.id}-token", token)
    account = grant and sandbox().accounts.get(portal.id, grant.username)
    return (grant, account) if account else None
