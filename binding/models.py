"""SQLAlchemy models of the domain. Schema changes go through Alembic (binding/migrations)."""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value

    def process_result_value(self, value, dialect):
        from datetime import timezone

        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    pass


def new_public_id() -> str:
    return secrets.token_hex(16)


class AccountKind:
    PERSONAL = "personal"
    ENTERPRISE = "enterprise"
    STAFF = "staff"
    ALL = (PERSONAL, ENTERPRISE, STAFF)
    SELF_REGISTERED = (PERSONAL, ENTERPRISE)


class AccountStatus:
    ACTIVE = "active"
    DISABLED = "disabled"


def can_sign_in(account) -> bool:
    """THE rule, without raising: only an active account may sign in or keep using a login
    (sessions, OAuth tokens, refresh) (issue 2 "Lockout", last point). ``account``: an Account,
    or any row with its ``status``; None (no account) may not. ``binding.accounts`` re-exports it."""
    return account is not None and account.status == AccountStatus.ACTIVE


class Account(Base):
    """A local account held by the broker (rule 1)."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32), unique=True)
    phone_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(512))
    kind: Mapped[str] = mapped_column(String(16), default=AccountKind.PERSONAL)
    status: Mapped[str] = mapped_column(String(16), default=AccountStatus.ACTIVE)
    display_name: Mapped[str | None] = mapped_column(String(128))
    # Staff roles: "support" or "reviewer"; reviewers act for a region code prefix.
    staff_role: Mapped[str | None] = mapped_column(String(32))
    staff_region: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# Usernames are unique regardless of case (rule 1: "a username already taken is refused"),
# also under concurrent registrations; the index also serves case-insensitive login lookups.
Index("uq_accounts_username_lower", func.lower(Account.username), unique=True)


class LoginSession(Base):
    """A browser session at the broker; revocable server-side. Stores only a hash of the token."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The OIDC session id (``sid`` claim); safe to show to clients, unlike the token.
    sid: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    auth_methods: Mapped[str] = mapped_column(String(64))  # space-separated amr values
    cert_level: Mapped[int] = mapped_column(Integer, default=1)
    # Issue 4: what the upstream certified for THIS login (client policies judge it, rules 8-9):
    # personal | legal, and the upstream identity used (None for local logins).
    account_kind: Mapped[str | None] = mapped_column(String(16))
    upstream_identity_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(256))

    account: Mapped[Account] = relationship()


class OneTimeCode(Base):
    """An SMS / email code (rules 1, 2, 5): stored as an HMAC, single use, limited tries."""

    __tablename__ = "one_time_codes"
    __table_args__ = (Index("ix_codes_lookup", "purpose", "recipient", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(254))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxMessage(Base):
    """SMS and email as sent; the embedded gateway (demo, tests) reads them from here."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))  # sms | email
    recipient: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Enterprise(Base):
    """An organisation (单位) keyed by its unified social credit code."""

    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(12))
    # [{"name": "创新型中小企业", "valid_until": "2027-12-31"}, ...]
    categories: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EnterpriseBinding(Base):
    """A certified binding of an enterprise to one local account (rule 14: one enterprise, one binding)."""

    __tablename__ = "enterprise_bindings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    source: Mapped[str] = mapped_column(String(64))  # which upstream certified it
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime)

    enterprise: Mapped[Enterprise] = relationship()
    account: Mapped[Account] = relationship()


class MembershipRole:
    ADMIN = "admin"
    SUB_ACCOUNT = "sub_account"


class Membership(Base):
    """An account's place in a unit (rule 13: at most one unit per account)."""

    __tablename__ = "memberships"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | pending | disabled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    enterprise: Mapped[Enterprise] = relationship()
    account: Mapped[Account] = relationship()


class AuditEvent(Base):
    """Append-only record of every state change that matters (locks, logins, bindings...)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    event: Mapped[str] = mapped_column(String(64), index=True)
    account_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor: Mapped[str | None] = mapped_column(String(128))
    ip: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


__all__ = [
    "Account", "AccountKind", "AccountStatus", "AuditEvent", "Base", "Enterprise",
    "EnterpriseBinding", "LoginSession", "Membership", "MembershipRole", "OneTimeCode",
    "OutboxMessage",
]

# The OIDC provider's tables (issue 3) share this metadata: migrations and test wipes see them.
from binding.oauth import models as _oauth_models  # noqa: E402,F401
# Upstream identities linked to accounts (issue 4).
from binding import upstream_models as _upstream_models  # noqa: E402,F401
