"""Finding the account behind a typed login name (rule 2)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .identifiers import classify_identifier
from .models import Account, AccountKind, Enterprise, EnterpriseBinding


def find_by_identifier(db: Session, kind: str, value: str) -> Account | None:
    """The account for a classified identifier (see ``classify_identifier``).

    A USCC resolves through the enterprise's binding, and only to a legal-person
    (``enterprise``) account: rule 2 / `004`, a natural-person account may not log in with a
    USCC. Such an attempt is treated like an unknown identifier (nothing is revealed)."""
    if kind == "phone":
        return find_by_phone(db, value)
    if kind == "email":
        return find_by_email(db, value)
    if kind == "uscc":
        return db.scalar(
            select(Account)
            .join(EnterpriseBinding, EnterpriseBinding.account_id == Account.id)
            .join(Enterprise, Enterprise.id == EnterpriseBinding.enterprise_id)
            .where(Enterprise.uscc == value, Account.kind == AccountKind.ENTERPRISE)
        )
    return find_by_username(db, value)


def find_by_username(db: Session, username: str) -> Account | None:
    """Case-insensitive: usernames are unique regardless of case."""
    return db.scalar(select(Account).where(func.lower(Account.username) == username.strip().lower()))


def find_by_login(db: Session, login: str) -> Account | None:
    return find_by_identifier(db, *classify_identifier(login))


def find_by_phone(db: Session, phone: str) -> Account | None:
    return db.scalar(select(Account).where(Account.phone == phone))


def find_by_email(db: Session, email: str) -> Account | None:
    return db.scalar(select(Account).where(func.lower(Account.email) == email.lower()))


__all__ = ["find_by_email", "find_by_identifier", "find_by_login", "find_by_phone", "find_by_username"]
