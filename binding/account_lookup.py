"""Finding the account behind a typed login name (rule 2)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, make_transient_to_detached

from .db import session_connection
from .identifiers import classify_identifier
from .models import Account, AccountKind, Enterprise, EnterpriseBinding
from .prepared import Prepared

_VALUE = bindparam("p_value")


def _matching(query, kind: str):
    """``query`` narrowed to the account a ``kind`` of identifier names (the value: ``p_value``).

    A USCC resolves through the enterprise's binding, and only to a legal-person
    (``enterprise``) account: rule 2 / `004`, a natural-person account may not log in with a
    USCC. Such an attempt is treated like an unknown identifier (nothing is revealed)."""
    if kind == "uscc":
        return (query.join(EnterpriseBinding, EnterpriseBinding.account_id == Account.id)
                .join(Enterprise, Enterprise.id == EnterpriseBinding.enterprise_id)
                .where(Enterprise.uscc == _VALUE, Account.kind == bindparam("p_kind")))
    if kind == "phone":
        return query.where(Account.phone == _VALUE)
    if kind == "email":
        return query.where(func.lower(Account.email) == _VALUE)
    if kind == "username":   # unique regardless of case
        return query.where(func.lower(Account.username) == _VALUE)
    raise ValueError(f"unknown identifier kind {kind!r}")


def _params(kind: str, value: str) -> dict[str, Any]:
    if kind == "uscc":
        return {"p_value": value, "p_kind": AccountKind.ENTERPRISE}
    if kind == "email":
        return {"p_value": value.lower()}
    if kind == "username":
        return {"p_value": value.strip().lower()}
    return {"p_value": value}


_KINDS = ("uscc", "phone", "email", "username")
_ACCOUNT = {kind: _matching(select(Account), kind) for kind in _KINDS}


# What verifying a password needs, on the DB-API cursor (binding.prepared): the read step of a
# password login runs on every login (issue 5, README "Performance").
_PASSWORD_OF = {kind: Prepared(_matching(select(Account.id, Account.password_hash), kind)) for kind in _KINDS}


def find_by_identifier(db: Session, kind: str, value: str) -> Account | None:
    """The account for a classified identifier (see ``classify_identifier``)."""
    return db.scalar(_ACCOUNT[kind], _params(kind, value))


def password_of(db: Session, kind: str, value: str):
    """A row with the ``id`` and ``password_hash`` of the account ``find_by_identifier`` finds, or None."""
    return _PASSWORD_OF[kind].first(session_connection(db), _params(kind, value))


_ACCOUNTS = Account.__table__
_FOR_UPDATE = Prepared(select(*_ACCOUNTS.columns).where(_ACCOUNTS.c.id == bindparam("p_id")).with_for_update())
_ORM_FOR_UPDATE = (select(Account).where(Account.id == bindparam("p_id")).with_for_update()
                   .execution_options(populate_existing=True))


def account_for_update(db: Session, account_id: int) -> Account | None:
    """The account re-read, its row locked until the commit (PostgreSQL ``FOR UPDATE``; a SQLite
    write transaction excludes every other writer anyway), as a persistent instance of ``db``.

    Read on the DB-API cursor (it runs in every password login) and attached as if the ORM had
    loaded it (``make_transient_to_detached``: changes to it are flushed as UPDATEs). An
    instance ``db`` already holds is refreshed by the ORM instead (one instance per row)."""
    if db.identity_key(Account, account_id) in db.identity_map:
        return db.scalar(_ORM_FOR_UPDATE, {"p_id": account_id})
    row = _FOR_UPDATE.first(session_connection(db), {"p_id": account_id})
    if row is None:
        return None
    account = Account(**row._asdict())
    make_transient_to_detached(account)
    db.add(account)
    return account


def find_by_username(db: Session, username: str) -> Account | None:
    """Case-insensitive: usernames are unique regardless of case."""
    return find_by_identifier(db, "username", username)


def find_by_login(db: Session, login: str) -> Account | None:
    return find_by_identifier(db, *classify_identifier(login))


def find_by_phone(db: Session, phone: str) -> Account | None:
    return find_by_identifier(db, "phone", phone)


def find_by_email(db: Session, email: str) -> Account | None:
    return find_by_identifier(db, "email", email)


__all__ = ["account_for_update", "find_by_email", "find_by_identifier", "find_by_login", "find_by_phone",
           "find_by_username", "password_of"]
