"""Issue 5: a password login verifies the password with no transaction open
(``binding.password_flows.login_with_password``), so the account may change meanwhile: another
login's rehash, a password change, a disable. Each change is made, in its own transaction, from
inside the verification (a hook in the hasher), on the real database and the real Redis."""
import pytest
from passlib.hash import pbkdf2_sha256
from sqlalchemy import select

from binding.password_flows import login_with_password
from binding.db import transaction
from binding.errors import AccountDisabled, DomainError, InvalidCredentials
from binding.models import Account, AuditEvent
from binding.passwords import PasswordHasher
from config import PasswordSettings
from tests.support.factories import CHEAP_PASSWORD, account_service, fast_settings, make_account  # noqa: F401

PASSWORD = "Zs@demo2026"


class HookedHasher(PasswordHasher):
    """Runs the next of ``hooks`` inside a verification: what another request does meanwhile."""

    def __init__(self, settings):
        super().__init__(settings)
        self.verifications = 0
        self.hooks = []

    def verify(self, password, stored_hash):
        self.verifications += 1
        if self.hooks:
            self.hooks.pop(0)()
        return super().verify(password, stored_hash)


@pytest.fixture
def hasher():
    return HookedHasher(PasswordSettings(**CHEAP_PASSWORD))


@pytest.fixture(params=["orm-sessions", "core-connections"])
def login(request, db, engine, account_service, hasher):
    """login(identifier, password, then=None) -> the account id, or the refusal. Both units of
    work login_with_password takes: sessionmaker (ORM transactions) and Engine (what requests use)."""
    database = db if request.param == "orm-sessions" else engine

    def run(identifier, password=PASSWORD, then=None):
        try:
            return login_with_password(database, lambda s: account_service(s, hasher=hasher), identifier, password,
                                       captcha_passed=True, then=then).id
        except DomainError as exc:
            return exc

    return run


def events(db, account_id):
    with transaction(db) as s:
        return [(e.event, e.detail.get("rehashed")) for e in
                s.scalars(select(AuditEvent).where(AuditEvent.account_id == account_id).order_by(AuditEvent.id))]


def stored_hash(db, account_id):
    with transaction(db) as s:
        return s.get(Account, account_id).password_hash


def test_a_rehash_by_another_login_meanwhile_still_signs_in(db, hasher, login):
    with transaction(db) as s:
        account_id = make_account(s, username="imported", password_hash=pbkdf2_sha256.hash(PASSWORD)).id
    other = []
    hasher.hooks = [lambda: other.append(login("imported"))]   # logs in (and rehashes) first
    assert login("imported") == account_id
    assert other == [account_id]
    # the first login verified again, against the argon2id hash the other one stored
    assert hasher.verifications == 3
    assert stored_hash(db, account_id).startswith("$argon2id$")
    assert events(db, account_id) == [("login.succeeded", True), ("login.succeeded", False)]


def test_the_old_password_fails_once_a_change_committed_meanwhile(db, account_service, hasher, login):
    with transaction(db) as s:
        account_id = make_account(s, username="changing", hasher=hasher).id

    def change():
        with transaction(db) as s:
            account_service(s, hasher=hasher).change_password(s.get(Account, account_id), PASSWORD, "New@pass2026")

    hasher.hooks = [change]
    refused = login("changing")
    assert isinstance(refused, InvalidCredentials) and refused.field == "password"
    assert [e for e, _ in events(db, account_id)] == ["password.changed", "login.failed"]
    assert login("changing", "New@pass2026") == account_id


def test_an_account_disabled_meanwhile_is_refused_and_gets_no_session(db, account_service, hasher, login):
    with transaction(db) as s:
        account_id = make_account(s, username="leaving", hasher=hasher).id

    def disable():
        with transaction(db) as s:
            account_service(s, ip=None).set_disabled("leaving", True, actor="cli")

    hasher.hooks = [disable]
    signed_in = []
    assert isinstance(login("leaving", then=lambda s, account: signed_in.append(account.id)), AccountDisabled)
    assert signed_in == []
    assert [e for e, _ in events(db, account_id)] == ["account.disabled"]


def test_the_sign_in_shares_the_write_transaction_of_login_succeeded(db, hasher, login):
    with transaction(db) as s:
        account_id = make_account(s, username="atomic", hasher=hasher).id
    seen = []

    def then(s, account):
        seen.extend(s.scalars(select(AuditEvent.event).where(AuditEvent.account_id == account.id)))
        raise RuntimeError("the session could not be stored")

    with pytest.raises(RuntimeError):
        login("atomic", then=then)
    assert seen == ["login.succeeded"]
    assert events(db, account_id) == []   # rolled back together
    assert login("atomic", then=lambda s, account: None) == account_id


def test_a_hash_that_keeps_changing_counts_as_a_failed_check(db, hasher, login):
    with transaction(db) as s:
        account_id = make_account(s, username="restless", hasher=hasher).id

    def rehash():   # the same password, a new salt: another hash every time
        with transaction(db) as s:
            s.get(Account, account_id).password_hash = hasher.hash(PASSWORD)

    hasher.hooks = [rehash, rehash, rehash]
    refused = login("restless")
    assert isinstance(refused, InvalidCredentials) and refused.data["attempts_left"] == 4
    assert hasher.verifications == 3
    assert [e for e, _ in events(db, account_id)] == ["login.failed"]
