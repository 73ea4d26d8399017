"""What every sandbox portal shares: its name on every page, the login form (fields
``username``/``password``, button ``#portal-login``), the portal's own sign-in kept in the
sandbox session cookie, CSRF on forms, error pages and the test-only fault switch."""
from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for

from .accounts import AccountStore, PortalAccount
from .state import SandboxClient, Store


@dataclass(frozen=True)
class Portal:
    id: str
    name: str
    name_en: str
    color: str
    login_heading: str = "登录 Sign in"


@dataclass
class Sandbox:
    """One sandbox app's state, in ``app.extensions["sandbox"]``."""

    base_url: str
    accounts: AccountStore
    store: Store
    clients: dict[str, SandboxClient]

    def url(self, path: str) -> str:
        return self.base_url + path


def sandbox() -> Sandbox:
    return current_app.extensions["sandbox"]


def faults(portal_id: str) -> dict[str, Any]:
    """Test-only misbehaviour for one portal: ``app.config["SANDBOX_FAULTS"][portal_id]``."""
    return current_app.config.get("SANDBOX_FAULTS", {}).get(portal_id) or {}


def backchannel_fault(portal_id: str, kind: str):
    """``slow_seconds`` delays, ``<kind>_status`` (e.g. ``token_status``: 500) fails a
    back-channel endpoint, as an overloaded or broken upstream would. None when healthy."""
    f = faults(portal_id)
    if f.get("slow_seconds"):
        time.sleep(float(f["slow_seconds"]))
    status = f.get(f"{kind}_status")
    if status:
        return f"<html><body><h1>{int(status)} Upstream error</h1></body></html>", int(status), \
            {"Content-Type": "text/html; charset=utf-8"}
    return None


# --- the portal's own sign-in ----------------------------------------------------------------
def signed_in(portal: Portal) -> PortalAccount | None:
    username = session.get("portals", {}).get(portal.id)
    return sandbox().accounts.get(portal.id, username) if username else None


def to_login(portal: Portal):
    """Send the browser to this portal's login page, coming back to the current URL after."""
    return redirect(url_for(f"{portal.id}.login", next=request.full_path.rstrip("?")))


def _safe_next(portal: Portal, target: str | None) -> str:
    prefix = f"/{portal.id}/"
    if target and target.startswith(prefix) and "\\" not in target:
        return target
    return prefix + ("account" if portal.id == "sd-portal" else "home")


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(24)
    return token


def csrf_ok() -> bool:
    sent, kept = request.form.get("csrf_token", ""), session.get("csrf", "")
    return bool(kept) and hmac.compare_digest(sent.encode(), kept.encode())


def page(portal: Portal, template: str, status: int = 200, **context):
    return render_template(template, portal=portal, csrf_token=csrf_token, **context), status


def error_page(portal: Portal, zh: str, en: str, status: int = 400):
    """An error the user sees at the portal: never a redirect to an unverified URI."""
    return page(portal, "sandbox/error.html", status, zh=zh, en=en)


def add_login_routes(bp: Blueprint, portal: Portal) -> None:
    """``/login`` (GET form, POST sign-in then 303 to ``next``) and ``/logout``."""

    @bp.route("/login", methods=["GET", "POST"], endpoint="login")
    def login():
        target = _safe_next(portal, request.values.get("next"))
        if request.method == "GET":
            return login_form(portal, target)
        if not csrf_ok():
            return login_form(portal, target, error=("页面已过期，请重新登录。", "The page expired; please sign in again."))
        account = sandbox().accounts.authenticate(
            portal.id, request.form.get("username", ""), request.form.get("password", ""))
        if account is None:
            return login_form(portal, target, error=("用户名或密码错误。", "Wrong username or password."),
                              username=request.form.get("username", ""))
        session.setdefault("portals", {})[portal.id] = account.username
        session.modified = True
        return redirect(target, code=303)

    @bp.get("/home", endpoint="home")
    def home():
        account = signed_in(portal)
        if account is None:
            return to_login(portal)
        return page(portal, "sandbox/message.html", zh=f"您已登录：{account.name}（{account.username}）。",
                    en="You are signed in.")

    @bp.route("/logout", methods=["GET", "POST"], endpoint="logout")
    def logout():
        session.get("portals", {}).pop(portal.id, None)
        session.modified = True
        return page(portal, "sandbox/message.html", zh="您已退出。", en="You are signed out.")


def login_form(portal: Portal, target: str, error: tuple[str, str] | None = None, username: str = ""):
    hints = [a.username for a in sandbox().accounts.of_portal(portal.id)]
    return page(portal, "sandbox/login.html", next=target, error=error,
                username=username, hints=hints)
