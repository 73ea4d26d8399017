"""Broker login sessions: created at sign-in with a fresh token, revocable server-side
(logout, password change, account disabled), bounded by absolute and idle lifetimes
(OWASP Session Management Cheat Sheet: session ID renewal, idle and absolute timeouts,
server-side invalidation; only a hash of the token is stored)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from config import Clock, SessionSettings

from .accounts import can_sign_in
from .db import session_connection
from .hashing import secret_hash
from .models import Account, LoginSession, new_public_id
from .prepared import Prepared, insert_all

# Only write last_seen_at when it moved this much: keeps reads off the write path.
_TOUCH_EVERY = timedelta(seconds=60)


_sessions, _accounts = LoginSession.__table__, Account.__table__
_INSERT = insert_all(_sessions, (_sessions.c.id,))
_BY_TOKEN = Prepared(select(*(_sessions.c[name] for name in (
    "id", "sid", "account_id", "auth_methods", "cert_level", "account_kind", "upstream_identity_id", "created_at",
    "last_seen_at", "expires_at", "revoked_at")), _accounts.c.public_id.label("account_public_id"), _accounts.c.status)
    .select_from(_sessions.outerjoin(_accounts, _accounts.c.id == _sessions.c.account_id))
    .where(_sessions.c.token_hash == bindparam("p_hash")))
# Both only while the session is live: a logout committed meanwhile stays what it was.
_TOUCH = Prepared(update(_sessions).where(_sessions.c.id == bindparam("p_id"), _sessions.c.revoked_at.is_(None))
                  .values(last_seen_at=bindparam("p_now")).returning(_sessions.c.id))
_REVOKE = Prepared(update(_sessions).where(_sessions.c.id == bindparam("p_id"), _sessions.c.revoked_at.is_(None))
                   .values(revoked_at=bindparam("p_now"), revoked_reason=bindparam("p_reason")))


@dataclass(frozen=True)
class NewSession:
    """The row ``LoginSessions.start`` wrote."""

    id: int
    sid: str
    created_at: datetime


@dataclass(frozen=True)
class SessionCheck:
    """``LoginSessions.check``: the login (None: not signed in) and what must be written:
    ``touch`` (last_seen_at), ``idle`` / ``disabled`` (the session ended for that reason), None."""

    login: "ActiveLogin | None"
    session_id: int | None = None
    write: str | None = None


@dataclass(frozen=True)
class ActiveLogin:
    """What the rest of the broker knows about the signed-in user of a request."""

    session_id: int
    sid: str
    account_id: int
    account_public_id: str
    auth_methods: tuple[str, ...]
    cert_level: int
    auth_time: datetime
    # Issue 4: the account kind the upstream certified for this login (None: a local login,
    # judged by the account's own kind) and the upstream identity used.
    account_kind: str | None = None
    upstream_identity_id: int | None = None


class LoginSessions:
    def __init__(self, session: Session, settings: SessionSettings, clock: Clock):
        self.db = session
        self.settings = settings
        self.clock = clock

    def start(self, account: Account, methods: tuple[str, ...], cert_level: int,
              ip: str | None = None, user_agent: str | None = None, *, account_kind: str | None = None,
              upstream_identity_id: int | None = None) -> tuple[str, NewSession]:
        """A new session with a new random token (never reuse a pre-login id: session fixation).
        Written at once on the DB-API cursor (``binding.prepared``: it runs on every login)."""
        now = self.clock()
        token = secrets.token_urlsafe(32)
        sid = new_public_id()
        expires_at = now + timedelta(seconds=self.settings.absolute_lifetime_seconds)
        row = _INSERT.first(session_connection(self.db), dict(
            token_hash=secret_hash(token), sid=sid, account_id=account.id, auth_methods=" ".join(methods),
            cert_level=cert_level, account_kind=account_kind, upstream_identity_id=upstream_identity_id,
            created_at=now, last_seen_at=now, expires_at=expires_at, revoked_at=None, revoked_reason=None,
            ip=ip, user_agent=(user_agent or "")[:256] or None))
        return token, NewSession(row.id, sid, now)

    def resolve(self, token: str) -> ActiveLogin | None:
        """The live login for ``token``; None when unknown, revoked, expired, idle, or disabled.
        An idle session or one of a disabled account is ended; ``last_seen_at`` moves at most
        once a minute. Writes only then: call ``check`` in a read-only transaction first."""
        found = self.check(token)
        if found.write is None:
            return found.login
        now = self.clock()
        params = {"p_id": found.session_id, "p_now": now}
        if found.write == "touch":
            # None: ended since the SELECT above (PostgreSQL's READ COMMITTED sees a logout's commit).
            return found.login if _TOUCH.first(session_connection(self.db), params) is not None else None
        _REVOKE.run(session_connection(self.db), {**params, "p_reason": found.write})
        return None

    def check(self, token: str) -> "SessionCheck":
        """What ``resolve`` would answer and write, without writing (one prebuilt SELECT of the
        session and its account: this runs on every signed-in request)."""
        now = self.clock()
        row = _BY_TOKEN.first(session_connection(self.db), {"p_hash": secret_hash(token)})
        if row is None or row.revoked_at is not None or now >= row.expires_at:
            return SessionCheck(None)
        if now - row.last_seen_at >= timedelta(seconds=self.settings.idle_timeout_seconds):
            return SessionCheck(None, row.id, "idle")
        if not can_sign_in(row):
            return SessionCheck(None, row.id, "disabled")
        login = ActiveLogin(row.id, row.sid, row.account_id, row.account_public_id,
                            tuple(row.auth_methods.split()), row.cert_level, row.created_at,
                            row.account_kind, row.upstream_identity_id)
        return SessionCheck(login, row.id, "touch" if now - row.last_seen_at >= _TOUCH_EVERY else None)

    def revoke_token(self, token: str, reason: str = "logout") -> LoginSession | None:
        row = self.db.scalar(select(LoginSession).where(LoginSession.token_hash == secret_hash(token)))
        if row is not None and row.revoked_at is None:
            self._revoke(row, self.clock(), reason)
        return row

    def revoke_all(self, account_id: int, reason: str, except_id: int | None = None) -> list[str]:
        """End every live session of an account (password change, disable); returns their sids."""
        now = self.clock()
        rows = self.db.scalars(select(LoginSession).where(
            LoginSession.account_id == account_id, LoginSession.revoked_at.is_(None))).all()
        ended = []
        for row in rows:
            if row.id != except_id:
                self._revoke(row, now, reason)
                ended.append(row.sid)
        return ended

    def _revoke(self, row: LoginSession, now: datetime, reason: str) -> None:
        row.revoked_at = now
        row.revoked_reason = reason


__all__ = ["ActiveLogin", "LoginSessions", "NewSession", "SessionCheck"]
