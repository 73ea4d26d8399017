"""Models of the OpenID Connect provider (issue 3): clients, codes, grants, tokens, signing keys,
consents and the clients each browser session signed into (for back-channel logout).

Secrets, codes and tokens are stored only as SHA-256 hashes: each is a high-entropy random
string, so a fast hash is enough and a stolen database yields nothing usable (RFC 6819 §5.1.4.1.3).
The methods named like Authlib's ``ClientMixin`` / ``TokenMixin`` let Authlib use the rows
directly (duck typing: ``binding`` imports no web framework).
"""
from __future__ import annotations

import hmac
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from binding.hashing import secret_hash
from binding.models import Base, UTCDateTime

if TYPE_CHECKING:
    from binding.models import Account


class OAuthClient(Base):
    """A downstream portal registered with the broker (from the CLI or the demo seed).

    ``policy`` holds the per-client rules (DOMAIN rules 8, 9, 24): see ``binding.oauth.policy``.
    """

    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    secret_hash: Mapped[str | None] = mapped_column(String(64))  # None: public client
    redirect_uris: Mapped[list] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list] = mapped_column(JSON, default=list)
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(512))
    grant_types: Mapped[list] = mapped_column(JSON, default=list)
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    signing_alg: Mapped[str] = mapped_column(String(8), default="ES256")
    policy: Mapped[dict] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(String(16), default="cli")  # cli | demo | config
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # --- the Authlib ClientMixin protocol -------------------------------------------------
    @property
    def public(self) -> bool:
        return self.secret_hash is None

    @property
    def client_metadata(self) -> dict:
        return {"post_logout_redirect_uris": list(self.post_logout_redirect_uris or [])}

    @property
    def id_token_signed_response_alg(self) -> str:
        return self.signing_alg

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        # OpenID Connect Core §3.1.2.1: redirect_uri is REQUIRED; never guess one.
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The requested scopes if all are allowed (None -> invalid_scope), else the defaults."""
        allowed = list(self.scopes or [])
        if not scope:
            return " ".join(allowed)
        asked = scope.split()
        if any(s not in allowed for s in asked):
            return None
        return " ".join(dict.fromkeys(asked))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri_matches(self.redirect_uris or [], redirect_uri, loopback_any_port=self.public)

    def check_client_secret(self, client_secret: str) -> bool:
        if self.secret_hash is None:
            return False
        return hmac.compare_digest(secret_hash(client_secret), self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.public:
            return method == "none" and endpoint == "token"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in (self.grant_types or [])

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in (self.grant_types or [])


def redirect_uri_matches(registered: list[str], asked: str, *, loopback_any_port: bool) -> bool:
    """Exact string match (RFC 9700 §4.1.3). For native apps a registered loopback
    ``http://127.0.0.1/path`` (or ``[::1]``) matches any port, nothing else varies (RFC 8252 §7.3)."""
    if asked in registered:
        return True
    if not loopback_any_port:
        return False
    try:
        parts = urlsplit(asked)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "::1") or port is None:
        return False
    host = "[::1]" if parts.hostname == "::1" else "127.0.0.1"
    without_port = parts._replace(netloc=host).geturl()
    return without_port in registered


class AuthorizationCode(Base):
    """A code: single use, short life, bound to client + redirect URI + PKCE challenge."""

    __tablename__ = "oauth_codes"
    # The nonce replay check of every authorization request (GrantStore.nonce_used; migration 0005).
    __table_args__ = (Index("ix_oauth_codes_client_nonce", "client_id", "nonce"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(String(512))
    scope: Mapped[str] = mapped_column(String(512))
    nonce: Mapped[str | None] = mapped_column(String(255))
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(8))
    sid: Mapped[str] = mapped_column(String(32))
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime)
    cert_level: Mapped[int] = mapped_column(Integer)
    amr: Mapped[str] = mapped_column(String(64))
    # The kind of THIS login when federated (issue 4, rule 9); None: a local login.
    account_kind: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The grant its exchange created, for grants made before migration 0006 (now OAuthGrant.code_id).
    grant_id: Mapped[int | None] = mapped_column(Integer)

    # --- the Authlib AuthorizationCodeMixin protocol ---------------------------------------
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return int(self.auth_time.timestamp())

    def get_acr(self) -> str:
        return acr_for_level(self.cert_level)

    def get_amr(self) -> list[str]:
        return self.amr.split()


ACR_PREFIX = "urn:tongxing:cert:"


def acr_for_level(level: int) -> str:
    """The ``acr`` value of a certification level (DOMAIN "Certification levels")."""
    return f"{ACR_PREFIX}{level}"


def level_from_acr(value: str) -> int | None:
    """The level of an ``urn:tongxing:cert:N`` value; None for any other value."""
    if value.startswith(ACR_PREFIX) and value[len(ACR_PREFIX):].isdigit():
        return int(value[len(ACR_PREFIX):])
    return None


class OAuthGrant(Base):
    """One authorization given to a client: the family of tokens issued from one code (or one
    client-credentials request). Revoking it revokes every token in it."""

    __tablename__ = "oauth_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    grant_type: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(512))
    sid: Mapped[str | None] = mapped_column(String(32), index=True)
    auth_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cert_level: Mapped[int | None] = mapped_column(Integer)
    amr: Mapped[str | None] = mapped_column(String(64))
    account_kind: Mapped[str | None] = mapped_column(String(16))   # of the login, as on the code
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)  # absolute lifetime of refreshes
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    # The code whose exchange created it: a replay of that code revokes it (RFC 6749 §4.1.2).
    # Set to NULL when the code is purged (its id may be reused).
    code_id: Mapped[int | None] = mapped_column(
        ForeignKey("oauth_codes.id", ondelete="SET NULL", name="fk_oauth_grants_code_id"), index=True)

    # Loaded with the token (``GrantStore._token_with_grant``), never lazily: holding it keeps the
    # account in the Session's (weak) identity map for the request's later ``session.get``.
    account: Mapped["Account | None"] = relationship("Account", lazy="raise_on_sql", viewonly=True)


class OAuthToken(Base):
    """An access token (+ optional refresh token) of a grant. A used refresh token stays,
    marked ``refresh_used_at``, so its reuse is recognised (RFC 9700 §4.14.2)."""

    __tablename__ = "oauth_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("oauth_grants.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    jti: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(512))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    access_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refresh_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    grant: Mapped[OAuthGrant] = relationship()


class SigningKey(Base):
    """A JWS signing key. The newest of an algorithm signs; retired ones stay in the JWKS
    until every token they signed has expired (``retired_at`` + the longest token life)."""

    __tablename__ = "oauth_signing_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    alg: Mapped[str] = mapped_column(String(8))
    private_jwk: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Consent(Base):
    """The scopes an account allowed a (third-party) client to receive."""

    __tablename__ = "oauth_consents"
    __table_args__ = (UniqueConstraint("account_id", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(512))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SessionClient(Base):
    """A client that a broker session (``sid``) signed into: told when the session ends
    (OpenID Connect Back-Channel Logout 1.0 §2.7)."""

    __tablename__ = "oauth_session_clients"
    __table_args__ = (UniqueConstraint("sid", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid: Mapped[str] = mapped_column(String(32), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    account_public_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


__all__ = [
    "ACR_PREFIX", "AuthorizationCode", "Consent", "OAuthClient", "OAuthGrant", "OAuthToken", "SessionClient",
    "SigningKey", "acr_for_level", "level_from_acr", "redirect_uri_matches", "secret_hash",
]
