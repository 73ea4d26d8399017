"""Upstream identities linked to local accounts (issue 4 "Linking rules", DOMAIN rules 10-12).

An identity is keyed by (provider_id, issuer, subject) -- never by phone or email, which
upstreams recycle and users change. What the upstream certified (kind, level, names) is
refreshed at every login; the login itself also stores it (``LoginSession``)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .models import Account, Base, UTCDateTime


class UpstreamIdentity(Base):
    __tablename__ = "upstream_identities"
    __table_args__ = (
        UniqueConstraint("provider_id", "issuer", "subject", name="uq_upstream_identity_key"),
        # Rule 12: at most one personal and one legal-person identity per provider per account.
        UniqueConstraint("account_id", "provider_id", "account_kind", name="uq_upstream_identity_kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(64))
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    account_kind: Mapped[str] = mapped_column(String(16))          # personal | legal
    cert_level: Mapped[int] = mapped_column(Integer, default=1)     # as of the last login
    login_name: Mapped[str | None] = mapped_column(String(128))
    display_name: Mapped[str | None] = mapped_column(String(128))
    phone: Mapped[str | None] = mapped_column(String(32))
    phone_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    enterprise_name: Mapped[str | None] = mapped_column(String(200))
    uscc: Mapped[str | None] = mapped_column(String(18))
    # How the link was made: phone (automatic, rule 11), password (proved ownership),
    # created (new local account), session (linked from the account page).
    link_method: Mapped[str] = mapped_column(String(16))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[Account] = relationship()


__all__ = ["UpstreamIdentity"]
