"""The password paths of a request, with no database transaction open while argon2 runs
(issue 5). A hash or a verification takes ~20 ms: inside a transaction it would hold SQLite's
write lock (every other writer of every worker waits: logins, token exchanges, registrations)
or a PostgreSQL connection and the rows it locked. Each flow is the ``AccountService`` method of
the same name cut into steps:

1. a short transaction: every refusal (input, conflicts, the lock, the code checked but not
   used: a wrong try still counts, ``keeps_changes``);
2. the hash or verification, outside any transaction;
3. a short write transaction: the same checks again on the current rows (another request may
   have changed them meanwhile), the change, its audit rows and ``then(db, account)`` (the
   caller's part: sign-in, ending sessions), all committed together.

``database`` is what ``binding.db.unit_of_work`` takes (the request's Engine, or a
sessionmaker); ``service(db)`` builds the ``AccountService`` on each step's session."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from .accounts import PasswordCheck, until_current_hash
from .db import unit_of_work
from .models import Account

if TYPE_CHECKING:
    from .accounts import AccountService

Database = Engine | sessionmaker[Session]
ServiceOn = Callable[[Session], "AccountService"]
Then = Callable[[Session, Account], object] | None


def login_with_password(database: Database, service: ServiceOn, identifier: str, password: str, *,
                        captcha_passed: bool, read_database: Database | None = None, then: Then = None) -> Account:
    """A password login (``AccountService.login_password``, issue 2 "Lockout").

    1. a short read (on ``read_database`` if given): find the account, reserve a check of the lock;
    2. verify the password (or the dummy) outside any transaction;
    3. a short write transaction: ``finish_password_login`` on the account re-read, then
       ``then(db, account)`` (the broker's sign-in) in that same transaction, so the session
       exists exactly when login.succeeded does. A refusal's records (login.failed,
       account.locked) are committed although it propagates (``keeps_changes``).

    Given an Engine, steps 1 and 3 run on Core connections (``binding.db.unit_of_work``), ~70 µs
    less per login than the ORM Session's transactions (README "Performance")."""
    with unit_of_work(read_database or database) as db:
        svc = service(db)
        check = svc.begin_password_login(identifier, password, captcha_passed=captcha_passed)

    def round_(current: PasswordCheck, final: bool) -> Account:
        verdict = svc.verify_password(current, password)   # touches no database
        with unit_of_work(database) as db:
            account = service(db).finish_password_login(current, verdict, final=final)
            _then(then, db, account)
        return account

    return until_current_hash(check, round_)


def register_account(database: Database, service: ServiceOn, *, then: Then = None, **fields: str) -> Account:
    """``AccountService.register`` (DOMAIN rule 1): phone, code, username, password, kind. The
    code is used in step 3, with the account it creates (both or neither)."""
    return _hash_between(database, service, fields["password"], then,
                         check=lambda svc: svc.check_registration(**fields),
                         write=lambda svc, password_hash: svc.register(**fields, password_hash=password_hash))


def reset_password(database: Database, service: ServiceOn, *, phone: str, code: str, new_password: str,
                   then: Then = None) -> Account:
    """``AccountService.reset_password`` (rule 5): the code is used in step 3 with the new hash;
    ``then`` ends the account's sessions in that transaction."""
    fields = dict(phone=phone, code=code, new_password=new_password)
    return _hash_between(database, service, new_password, then,
                         check=lambda svc: svc.check_password_reset(**fields),
                         write=lambda svc, password_hash: svc.reset_password(**fields, password_hash=password_hash))


def _hash_between(database: Database, service: ServiceOn, password: str, then: Then, *,
                  check: Callable[["AccountService"], None],
                  write: Callable[["AccountService", str], Account]) -> Account:
    """Steps 1-3 of a flow that stores a new password: ``check`` in a short transaction, the
    hash outside any, then ``write`` with it and ``then`` in one write transaction."""
    with unit_of_work(database) as db:
        svc = service(db)
        check(svc)
    password_hash = svc.hasher.hash(password)
    with unit_of_work(database) as db:
        account = write(service(db), password_hash)
        _then(then, db, account)
    return account


def change_password(database: Database, service: ServiceOn, account_id: int, old: str, new: str, *,
                    read_database: Database | None = None, then: Then = None) -> Account:
    """``AccountService.change_password``: the old password verified and the new one hashed in
    step 2 (the new one only after a right old one); ``then`` ends the other sessions."""
    with unit_of_work(read_database or database) as db:
        svc = service(db)
        check = svc.begin_password_change(account_id, new)
    hashed: list[str] = []

    def round_(current: PasswordCheck, final: bool) -> Account:
        matched, _ = svc.verify_password(current, old or "")
        if matched and not hashed:
            hashed.append(svc.hasher.hash(new))
        with unit_of_work(database) as db:
            account = service(db).finish_password_change(current, matched, hashed[0] if matched else None,
                                                         final=final)
            _then(then, db, account)
        return account

    return until_current_hash(check, round_)


def _then(then: Then, db: Session, account: Account) -> None:
    if then is not None:
        then(db, account)


__all__ = ["change_password", "login_with_password", "register_account", "reset_password"]
