"""The browser side of a login: the session token lives in the signed session cookie, the
session itself in the database (``binding.login_sessions``) so it can be revoked server-side.

Other features call ``current_login()`` to learn who is signed in, ``sign_in()`` after a
successful authentication, and ``on_session_end(listener)`` to hear about ended sessions
(back-channel logout). Listeners hear about a session only once the transaction that ended it
has committed (a rolled-back logout or disable tells nobody). A new token at every sign-in, in
a signed cookie (OWASP Session Management Cheat Sheet: renew the ID after authentication)."""
from __future__ import annotations

import logging
from typing import Callable, Iterable

from flask import current_app, g, request, session
from sqlalchemy import event
from sqlalchemy.orm import Session

from binding.audit import Audit
from binding.db import transaction
from binding.login_sessions import ActiveLogin, LoginSessions
from binding.models import Account

from .services import services

_TOKEN_KEY = "login"
_PENDING = "tongxing.ended_sids"      # Session.info: (listeners, sids) waiting for the commit
SessionEndListener = Callable[[Iterable[str]], None]
log = logging.getLogger("broker.session")


def audit(db: Session) -> Audit:
    """The audit trail of this request (``binding.audit``): its IP and request id on every row."""
    return Audit(db, services().clock, ip=request.remote_addr, request_id=g.get("request_id"))


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
        # Read-only first (on SQLite a write transaction takes the database's one write lock):
        # only a session to touch (once a minute) or to end needs a write, which re-checks.
        with transaction(services().read_sessions) as db:
            found = login_sessions(db).check(token)
        login = found.login
        if found.write is not None:
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
        _notify_end(db, ended)
    return login


def sign_out() -> str | None:
    """End this browser's session; returns its ``sid`` (for RP-initiated logout)."""
    token = session.pop(_TOKEN_KEY, None)
    sid = None
    if token:
        with transaction(services().sessions) as db:
            row = login_sessions(db).revoke_token(token, "logout")
            sid = row.sid if row is not None else None
            if sid:
                _notify_end(db, [sid])
    session.clear()
    g.active_login = None
    return sid


def end_account_sessions(db: Session, account_id: int, reason: str, keep_current: bool = False) -> list[str]:
    """Revoke every session of an account (password change, disable) inside the caller's
    transaction; the listeners hear about them once it commits."""
    keep = None
    if keep_current and g.get("active_login") is not None:
        keep = g.active_login.session_id
    sids = login_sessions(db).revoke_all(account_id, reason, except_id=keep)
    if sids:
        _notify_end(db, sids)
    return sids


def on_session_end(app, listener: SessionEndListener) -> None:
    app.extensions.setdefault("tongxing.session_end", []).append(listener)


def _notify_end(db: Session, sids: list[str]) -> None:
    """Queue ``sids`` on ``db``: delivered after its commit, dropped on rollback. Telling a
    portal before the commit could log a user out of a session that, rolled back, lives on."""
    listeners = list(current_app.extensions.get("tongxing.session_end", []))
    if not listeners:
        return
    db.info.setdefault(_PENDING, []).append((listeners, list(sids)))
    if not event.contains(Session, "after_commit", _deliver):   # once per process, for every Session
        event.listen(Session, "after_commit", _deliver)
        event.listen(Session, "after_rollback", _discard)


def _deliver(db: Session) -> None:
    if _PENDING not in db.info:
        return
    for listeners, sids in db.info.pop(_PENDING):
        for listener in listeners:
            try:
                listener(sids)
            except Exception:  # noqa: BLE001 - the commit is done; a listener must not undo the caller
                log.exception("session-end listener failed")


def _discard(db: Session) -> None:
    if _PENDING in db.info:
        db.info.pop(_PENDING)
