"""Codes, grants and tokens (RFC 6749, RFC 9700 "OAuth 2.0 Security Best Current Practice").

- A code is single use: claiming it is one conditional UPDATE, so two concurrent exchanges
  cannot both win; a replayed code revokes the grant (every token) its first use created
  (RFC 6749 §4.1.2, RFC 9700 §4.2.1 note).
- Refresh tokens rotate on every use; presenting a used one revokes the whole grant
  (RFC 9700 §4.14.2). Idle and absolute lifetimes bound them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session, contains_eager

from binding.audit import Audit
from binding.db import session_connection
from binding.models import Account, can_sign_in
from config import Clock

from . import statements as sql
from .config import OidcSettings
from .models import AuthorizationCode, OAuthGrant, OAuthToken, SessionClient, secret_hash


@dataclass(frozen=True)
class GrantRef:
    """What issuing tokens into a grant needs of it."""

    id: int
    client_id: str
    expires_at: datetime


@dataclass(frozen=True)
class ClaimedRefresh:
    scope: str     # the scope of the refresh token presented
    grant: Row     # its grant: ``statements.CLAIMED_REFRESH_GRANT`` columns
    subject: str   # the public id of the grant's account (``sub``)


@dataclass(frozen=True)
class LoginContext:
    """The broker login an authorization is based on."""

    sid: str
    auth_time: datetime
    cert_level: int
    amr: tuple[str, ...]
    # What the upstream certified for a federated login (issue 4, rule 9); None: a local login,
    # judged and described by the account's own kind.
    account_kind: str | None = None


def _login_columns(login: LoginContext | None) -> dict:
    """The login an authorization is based on, as the columns codes and grants share."""
    if login is None:
        return {"sid": None, "auth_time": None, "cert_level": None, "amr": None, "account_kind": None}
    return {"sid": login.sid, "auth_time": login.auth_time, "cert_level": login.cert_level,
            "amr": " ".join(login.amr), "account_kind": login.account_kind}


class GrantStore:
    def __init__(self, db: Session, settings: OidcSettings, clock: Clock):
        self.db = db
        self.settings = settings
        self.clock = clock
        self._connection = None

    def connection(self):
        """The session's connection (its transaction begun), asked for once per store."""
        if self._connection is None:
            self._connection = session_connection(self.db)
        return self._connection

    # --- codes --------------------------------------------------------------------------
    def save_code(self, code: str, *, client_id: str, account_id: int, redirect_uri: str, scope: str,
                  nonce: str | None, code_challenge: str | None, code_challenge_method: str | None,
                  login: LoginContext) -> None:
        now = self.clock()
        sql.INSERT_CODE.run(self.connection(), {
            "code_hash": secret_hash(code), "client_id": client_id, "account_id": account_id,
            "redirect_uri": redirect_uri, "scope": scope, "nonce": nonce, "code_challenge": code_challenge,
            "code_challenge_method": code_challenge_method, **_login_columns(login), "created_at": now,
            "expires_at": now + timedelta(seconds=self.settings.code_ttl_seconds), "used_at": None,
            "grant_id": None})

    def claim_code(self, code: str, client_id: str) -> Row | None:
        """The code (a row of ``statements.CLAIMED_CODE`` columns), now marked used; None when
        unknown, for another client, expired or replayed.

        One conditional ``UPDATE ... RETURNING`` claims it, so two concurrent exchanges cannot
        both win; only a failed claim looks further (a replay revokes what the first use made)."""
        now = self.clock()
        hashed = secret_hash(code)
        claimed = sql.CLAIM_CODE.first(self.connection(), {"p_hash": hashed, "p_client": client_id, "p_now": now})
        if claimed is None:
            row = self.db.scalar(select(AuthorizationCode).where(AuthorizationCode.code_hash == hashed))
            if row is not None and row.client_id == client_id:
                self._on_code_replay(row)
            return None
        return claimed if now < claimed.expires_at else None

    def _on_code_replay(self, row: AuthorizationCode) -> None:
        Audit(self.db, self.clock).record("oidc.code_replayed", account_id=row.account_id, client_id=row.client_id)
        grant = self.db.scalar(select(OAuthGrant).where(
            OAuthGrant.code_id == row.id, OAuthGrant.client_id == row.client_id, OAuthGrant.account_id == row.account_id))
        if grant is None and row.grant_id is not None:   # a grant made before migration 0006
            grant = self.db.get(OAuthGrant, row.grant_id)
        if grant is not None:
            self.revoke_grant(grant, "code_replay")

    def nonce_used(self, client_id: str, nonce: str) -> bool:
        return bool(sql.NONCE_USED.first(self.connection(), {"p_client": client_id, "p_nonce": nonce}).used)

    # --- grants and tokens ----------------------------------------------------------------
    def start_grant(self, *, client_id: str, grant_type: str, scope: str, account_id: int | None = None,
                    login: LoginContext | None = None, code_id: int | None = None) -> GrantRef:
        """A new grant; ``code_id``: the code whose exchange creates it (its replay revokes it)."""
        now = self.clock()
        expires_at = now + timedelta(seconds=self.settings.refresh_absolute_seconds)
        grant_id = sql.INSERT_GRANT.first(self.connection(), {
            "client_id": client_id, "account_id": account_id, "grant_type": grant_type, "scope": scope,
            "created_at": now, "expires_at": expires_at, "revoked_at": None, "revoked_reason": None,
            "code_id": code_id, **_login_columns(login)}).id
        return GrantRef(grant_id, client_id, expires_at)

    def save_token(self, grant: GrantRef, *, access_token: str, jti: str, expires_in: int, scope: str,
                   refresh_token: str | None) -> None:
        now = self.clock()
        refresh_expires = None
        if refresh_token:
            refresh_expires = min(now + timedelta(seconds=self.settings.refresh_idle_seconds), grant.expires_at)
        sql.INSERT_TOKEN.run(self.connection(), {
            "grant_id": grant.id, "client_id": grant.client_id, "access_token_hash": secret_hash(access_token),
            "jti": jti, "refresh_token_hash": secret_hash(refresh_token) if refresh_token else None,
            "scope": scope, "issued_at": now, "access_expires_at": now + timedelta(seconds=expires_in),
            "refresh_expires_at": refresh_expires, "refresh_used_at": None, "revoked_at": None})

    def claim_refresh(self, refresh_token: str, client_id: str) -> ClaimedRefresh | None:
        """The live refresh token's scope and grant, the token now marked used (rotation). A used
        one presented again revokes its grant (RFC 9700 §4.14.2); None for unknown, foreign,
        expired or revoked tokens and when the grant's account may no longer sign in.

        One conditional ``UPDATE ... RETURNING`` claims it, then one SELECT of its grant and
        account (read after the claim, so a revocation committed meanwhile is seen)."""
        now = self.clock()
        hashed = secret_hash(refresh_token)
        connection = self.connection()
        claimed = sql.CLAIM_REFRESH.first(connection, {"p_hash": hashed, "p_client": client_id, "p_now": now})
        if claimed is None:
            self._on_refresh_claim_failed(hashed, client_id, now)
            return None
        grant = sql.GRANT_WITH_SUBJECT.first(connection, {"p_grant": claimed.grant_id})
        if (grant is None or grant.revoked_at is not None or claimed.refresh_expires_at is None
                or now >= claimed.refresh_expires_at or now >= grant.expires_at or not can_sign_in(grant)):
            return None
        return ClaimedRefresh(scope=claimed.scope, grant=grant, subject=grant.subject)

    def _on_refresh_claim_failed(self, hashed: str, client_id: str, now: datetime) -> None:
        """RFC 9700 §4.14.2: a used refresh token presented again revokes its whole grant."""
        row = self._token_with_grant(OAuthToken.refresh_token_hash == hashed)
        if row is None or row.client_id != client_id or row.refresh_used_at is None:
            return
        Audit(self.db, lambda: now).record("oidc.refresh_reused", account_id=row.grant.account_id,
                                           client_id=client_id, grant_id=row.grant_id)
        self.revoke_grant(row.grant, "refresh_reuse")

    def find_token(self, token: str, kind: str) -> Row | None:
        """The stored ``access_token`` or ``refresh_token`` presented, with its grant and the
        grant's account (``statements.TOKEN_BY_ACCESS_HASH`` columns), whatever its state: the
        callers judge expiry, revocation and the account. One prebuilt SELECT on the cursor."""
        statement = sql.TOKEN_BY_ACCESS_HASH if kind == "access_token" else sql.TOKEN_BY_REFRESH_HASH
        return statement.first(self.connection(), {"p_hash": secret_hash(token)})

    def _token_with_grant(self, where) -> OAuthToken | None:
        """The token with its grant and the grant's account (None for client credentials) as ORM
        objects in one query, for a reused refresh token's revocation."""
        return self.db.scalars(
            select(OAuthToken).join(OAuthToken.grant)
            .outerjoin(Account, Account.id == OAuthGrant.account_id)
            .options(contains_eager(OAuthToken.grant).contains_eager(OAuthGrant.account)).where(where)
            .execution_options(populate_existing=True)).first()

    def revoke_token(self, row: OAuthToken) -> None:
        if row.revoked_at is None:
            row.revoked_at = self.clock()

    def revoke_grant(self, grant: OAuthGrant, reason: str) -> None:
        """Revoke a grant and with it every access and refresh token it holds."""
        revoke_grant(self.db, grant, self.clock(), reason)

    def revoke_account_grants(self, account_id: int, reason: str) -> int:
        """Every live grant of an account (disabled: its refresh tokens must not outlive it)."""
        return revoke_grants(self.db, self.clock(), reason, OAuthGrant.account_id == account_id)

    # --- authorizations -------------------------------------------------------------------
    def record_authorization(self, sid: str, client_id: str, account_id: int, account_public_id: str,
                             scope: str) -> None:
        """A code was issued: remember the client for the session's back-channel logout, audit it."""
        self.record_session_client(sid, client_id, account_public_id)
        Audit(self.db, self.clock).record("oidc.authorized", account_id=account_id, client_id=client_id, scope=scope)

    # --- sessions (back-channel logout) -----------------------------------------------------
    def record_session_client(self, sid: str, client_id: str, account_public_id: str) -> None:
        connection = self.connection()
        sql.INSERT_SESSION_CLIENT[connection.dialect.name].run(connection, {
            "sid": sid, "client_id": client_id, "account_public_id": account_public_id, "created_at": self.clock(),
            "notified_at": None})

    def end_sessions(self, sids: list[str]) -> list[SessionClient]:
        """Revoke the grants of ended sessions; returns the clients still to be told (once)."""
        for grant in self.db.scalars(select(OAuthGrant).where(OAuthGrant.sid.in_(sids),
                                                              OAuthGrant.revoked_at.is_(None))):
            self.revoke_grant(grant, "session_ended")
        rows = list(self.db.scalars(select(SessionClient).where(SessionClient.sid.in_(sids),
                                                                SessionClient.notified_at.is_(None))))
        now = self.clock()
        for row in rows:
            row.notified_at = now
        return rows


def revoke_grant(db: Session, grant: OAuthGrant, now: datetime, reason: str) -> None:
    """Revoke ``grant`` (audited once) and every token it holds."""
    if grant.revoked_at is None:
        grant.revoked_at = now
        grant.revoked_reason = reason
        Audit(db, lambda: now).record("oidc.grant_revoked", account_id=grant.account_id,
                                      client_id=grant.client_id, grant_id=grant.id, reason=reason)
    db.execute(update(OAuthToken).where(OAuthToken.grant_id == grant.id, OAuthToken.revoked_at.is_(None))
               .values(revoked_at=now).execution_options(synchronize_session=False))
    db.flush()


def revoke_grants(db: Session, now: datetime, reason: str, *where) -> int:
    """Revoke every live grant matching ``where`` (a removed client, a disabled account)."""
    grants = list(db.scalars(select(OAuthGrant).where(OAuthGrant.revoked_at.is_(None), *where)))
    for grant in grants:
        revoke_grant(db, grant, now, reason)
    return len(grants)


__all__ = ["ClaimedRefresh", "GrantRef", "GrantStore", "LoginContext",
           "revoke_grant", "revoke_grants"]
