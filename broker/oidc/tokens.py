"""Tokens as Authlib sees them: the resource owner (``Subject``), stored tokens
(``TokenView``, Authlib's TokenMixin) and the JWT access-token generator (RFC 9068).

An account that may no longer sign in (``binding.accounts.can_sign_in``) has no subject:
its access tokens are refused (RFC 6750 §3.1 invalid_token), its refresh tokens and codes
are invalid grants, introspection says inactive (issue 2 "Lockout", issue 3)."""
from __future__ import annotations

import base64
import hmac
import json
import secrets
from collections import namedtuple
from dataclasses import dataclass

from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator

from binding.accounts import can_sign_in
from binding.db import session_connection
from binding.oauth.statements import SUBJECT, SUBJECT_COLUMNS
from binding.oauth import AuthorizationCode, LoginContext, OAuthGrant, acr_for_level

from . import context as ctx


@dataclass
class Subject:
    """The resource owner Authlib passes around: the account (its ``SUBJECT_COLUMNS``: what
    tokens, claims and client policies read) and the login it came with."""

    account: tuple
    login: LoginContext | None

    def get_user_id(self) -> str:
        return self.account.public_id


def ts(dt) -> int:
    return int(dt.timestamp())


def subject_for(account_id: int | None, login: LoginContext | None) -> Subject | None:
    """The subject of ``account_id`` (a ``SUBJECT_COLUMNS`` row); None when it is gone or may
    not sign in."""
    account = subject_row(account_id)
    return None if account is None else Subject(account, login)


def login_of(grant: OAuthGrant | AuthorizationCode) -> LoginContext | None:
    """The login a grant, code or token record was based on (the columns ``GrantStore`` writes);
    None: no login."""
    if grant.sid is None:
        return None
    return LoginContext(grant.sid, grant.auth_time, grant.cert_level, tuple((grant.amr or "").split()),
                        grant.account_kind)


def login_kind(user: "Subject") -> str | None:
    """The account kind of the login behind ``user`` when federated (issue 4); None: local."""
    return user.login.account_kind if user.login is not None else None


class TokenView:
    """A presented token as Authlib's TokenMixin: ``record`` is its row with its grant and the
    grant's account (``GrantStore.find_token``); ``kind`` is access_token or refresh_token."""

    def __init__(self, record, kind: str):
        self.record = record
        self.kind = kind
        self._user: Subject | None = None

    @property
    def scope(self) -> str:
        return self.record.scope

    def get_scope(self) -> str:
        return self.record.scope

    def check_client(self, client) -> bool:
        return hmac.compare_digest(self.record.client_id, client.get_client_id())

    def get_expires_in(self) -> int:
        return max(0, ts(self.expires_at) - ts(ctx.now()))

    @property
    def expires_at(self):
        if self.kind == "refresh_token":
            return min(self.record.refresh_expires_at, self.record.grant_expires_at)
        return self.record.access_expires_at

    def is_expired(self) -> bool:
        return ctx.now() >= self.expires_at

    def is_revoked(self) -> bool:
        if self.record.grant_revoked_at is not None:
            return True
        if self.kind == "refresh_token":
            return self.record.refresh_used_at is not None
        return self.record.revoked_at is not None   # the access token alone (RFC 7009 §2)

    @property
    def for_user(self) -> bool:
        return self.record.account_id is not None

    def get_user(self) -> Subject | None:
        """The grant's account as a ``SUBJECT_COLUMNS`` row; None when gone or it may not sign in.
        Built once: userinfo asks for it twice (``usable``, then Authlib)."""
        if self._user is None and self.record.account_id is not None:
            account = _SubjectRow._make(getattr(self.record, "subject_" + name) for name in SUBJECT_COLUMNS)
            if can_sign_in(account):
                self._user = Subject(account, login_of(self.record))
        return self._user

    def usable(self) -> bool:
        """Its client still exists and, for a user's token, the user may still sign in."""
        if self.get_client() is None:
            return False
        return not self.for_user or self.get_user() is not None

    def get_client(self):
        return ctx.clients().get(self.record.client_id)


_SubjectRow = namedtuple("SubjectRow", SUBJECT_COLUMNS)


def find_token(token: str, hint: str | None) -> TokenView | None:
    store = ctx.grants()
    order = ["refresh_token", "access_token"] if hint == "refresh_token" else ["access_token", "refresh_token"]
    for kind in order:
        record = store.find_token(token, kind)
        if record is not None:
            return TokenView(record, kind)
    return None


def subject_row(account_id: int | None):
    """The columns of ``account_id`` that tokens and claims read (``statements.SUBJECT_COLUMNS``);
    None when it is gone or may not sign in (``can_sign_in``). One prebuilt Core SELECT: the
    token endpoint's hot path needs no ORM object."""
    if account_id is None:
        return None
    row = SUBJECT.first(session_connection(ctx.db()), {"p_account": account_id})
    return row if can_sign_in(row) else None


def access_token_claims(client, subject: str, scope: str, login: LoginContext | None, expires_in: int) -> dict:
    """RFC 9068 §2.2, plus the login's auth_time, acr and amr (§2.2.1)."""
    now = ts(ctx.now())
    claims = {"iss": ctx.provider().issuer, "iat": now, "exp": now + expires_in, "aud": client.client_id,
              "client_id": client.client_id, "sub": subject, "jti": secrets.token_urlsafe(JTI_BYTES), "scope": scope}
    if login is not None:
        claims["auth_time"] = ts(login.auth_time)
        claims["acr"] = acr_for_level(login.cert_level)
        claims["amr"] = list(login.amr)
    return claims


def sign_jwt(client, typ: str, claims: dict) -> str:
    """A JWS with the client's algorithm and the active key of this request (its kid in the header)."""
    return ctx.keys().sign(client.signing_alg, typ, claims)


JTI_BYTES = 18    # 24 URL-safe characters


class AccessTokens(JWTBearerTokenGenerator):
    """JWT access tokens (RFC 9068 §2), signed with the client's algorithm, dated by the
    injected clock. Refresh tokens are opaque random strings."""

    def __init__(self, issuer: str):
        super().__init__(issuer=issuer, expires_generator=self._expires_in)

    @staticmethod
    def _expires_in(client, grant_type) -> int:
        o = ctx.provider().oidc
        return o.client_credentials_ttl_seconds if grant_type == "client_credentials" else o.access_token_ttl_seconds

    def access_token_generator(self, client, grant_type, user, scope):
        subject = user.get_user_id() if user else client.get_client_id()
        login = user.login if user is not None else None
        claims = access_token_claims(client, subject, scope, login, self._expires_in(client, grant_type))
        return sign_jwt(client, "at+jwt", claims)


def jti_of(access_token: str) -> str:
    payload = access_token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))["jti"]


__all__ = ["AccessTokens", "Subject", "TokenView", "access_token_claims", "find_token", "jti_of", "login_of",
           "sign_jwt", "subject_for", "subject_row", "ts"]
