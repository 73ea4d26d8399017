"""The browser side of a login: the session token lives in the signed session cookie, the
session itself in the database (``binding.login_sessions``) so it can be revoked server-side.

Other features call ``current_login()`` to learn who is signed in, ``sign_in()`` after a
successful authentication, and ``on_session_end(listener)`` to hear about ended sessions
(back-channel logout)."""
from __future__ import annotations

from typing import Callable, Iterable

from flask import current_app, g, request, session
from sqlalchemy.orm import Session

from binding.db import transaction
from binding.login_sessions import ActiveLogin, LoginSessions
from binding.models import Account

from .services import Services

_TOKEN_KEY = "login"
SessionEndListener = Callable[[Iterable[str]], None]


def services() -> Services:
    return current_app.extensions["tongxing"]


def login_sessions(db: Session) -> LoginSessions:
    s = services()
    return LoginSessions(db, s.settings.session, s.clock)


def current_login() -> ActiveLogin | None:
    """The signed-in user of this request, or None. Checked against the database once per request."""
    if "active_login" in g:
        return g.active_login
    token = session.get(_TOKEN_KEY)
    login = None
    if token:
        with transaction(services().sessions) as db:
            login = login_sessions(db).resolve(token)
        if login is None:
            session.pop(_TOKEN_KEY, None)
    g.active_login = login
    return login


def sign_in(db: Session, account: Account, methods: tuple[str, ...], cert_level: int, *,
            account_kind: str | None = None, upstream_identity_id: int | None = None) -> ActiveLogin:
    """Start a fresh session for ``account`` inside the caller's transaction.

    Federated logins (issue 4) pass the ``account_kind`` and the upstream identity of THIS
    login: client policies judge them (DOMAIN rules 8, 9).

    The cookie session is cleared first, so the pre-login session id and CSRF token die
    (session fixation); the previous broker session, if any, is ended."""
    previous = session.get(_TOKEN_KEY)
    locale = session.get("locale")
    ended = []
    if previous:
        row = login_sessions(db).revoke_token(previous, "replaced")
        ended = [row.sid] if row is not None else []
    session.clear()
    if locale:
        session["locale"] = locale
    token, row = login_sessions(db).start(account, methods, cert_level, ip=request.remote_addr,
                                           user_agent=request.headers.get("User-Agent"),
                                           account_kind=account_kind, upstream_identity_id=upstream_identity_id)
    session[_TOKEN_KEY] = token
    session.permanent = True
    login = ActiveLogin(row.id, row.sid, account.id, account.public_id, methods, cert_level, row.created_at,
                        account_kind, upstream_identity_id)
    g.active_login = login
    if ended:
        _notify_end(ended)
    return login


def sign_out() -> str | None:
    """End this browser's session; returns its ``sid`` (for RP-initiated logout)."""
    token = session.pop(_TOKEN_KEY, None)
    sid = None
    if token:
        with transaction(services().sessions) as db:
            row = login_sessions(db).revoke_token(token, "logout")
            sid = row.sid if row is not None else None
    session.clear()
    g.active_login = None
    if sid:
        _notify_end([sid])
    return sid


def end_account_sessions(db: Session, account_id: int, reason: str, keep_current: bool = False) -> list[str]:
    """Revoke every session of an account (password change, disable) and tell the listeners."""
    keep = None
    if keep_current and g.get("active_login") is not None:
        keep = g.active_login.session_id
    sids = login_sessions(db).revoke_all(account_id, reason, except_id=keep)
    if sids:
        _notify_end(sids)
    return sids


def on_session_end(app, listener: SessionEndListener) -> None:
    app.extensions.setdefault("tongxing.session_end", []).append(listener)


def _notify_end(sids: list[str]) -> None:
    for listener in current_app.extensions.get("tongxing.session_end", []):
        listener(sids)
