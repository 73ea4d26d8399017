"""Issue 5: registration, password reset, password change and login hash or verify the password
with no database transaction open (``binding.password_flows``). Inside one, each ~20 ms hash
held SQLite's write lock, so every other writer waited (on PostgreSQL: a pooled connection and
the rows it had locked). Each test watches the hasher: how many connections of the engine are
checked out while it runs, and a write of another request made from inside it, on the real
database and Redis."""
import pytest
from passlib.hash import pbkdf2_sha256
from sqlalchemy import select

from binding import password_flows
from binding.db import transaction
from binding.errors import AccountDisabled, Conflict, InvalidCode, InvalidCredentials
from binding.models import Account, AuditEvent, OneTimeCode
from binding.passwords import PasswordHasher
from config import PasswordSettings
from tests.support.factories import (CHEAP_PASSWORD, account_service, fast_settings,  # noqa: F401
                                     make_account, outbox_code)

PHONE = "13800138001"
PASSWORD = "Zs@demo2026"
NEW_PASSWORD = "Nw@pass2026x"


class WatchedHasher(PasswordHasher):
    """Notes, for every hash and verification, what it is and how many connections of
    ``engine`` are checked out at that moment, then runs the next of ``hooks`` (another request)."""

    def __init__(self, settings, engine):
        self.calls = []
        self.engine = None
        super().__init__(settings)   # hashes its dummy: not watched
        self.engine, self.hooks = engine, []

    def _watch(self, what):
        if self.engine is None:
            return
        self.calls.append((what, self.engine.pool.checkedout()))
        if self.hooks:
            self.hooks.pop(0)()

    def hash(self, password):
        self._watch("hash")
        return super().hash(password)

    def verify(self, password, stored_hash):
        self._watch("verify")
        return super().verify(password, stored_hash)


@pytest.fixture
def hasher(engine):
    return WatchedHasher(PasswordSettings(**CHEAP_PASSWORD), engine)


@pytest.fixture
def service(account_service, hasher):
    return lambda s: account_service(s, hasher=hasher)


def meanwhile(db, step):
    """A hook: ``step(session)`` in a write transaction of its own, committed: another request,
    made while the flow hashes. With the flow's transaction open on SQLite it could not start
    (this thread would already hold the write lock)."""
    def run():
        with transaction(db) as s:
            step(s)
    return run


def another_writer(db, writes):
    return meanwhile(db, lambda s: writes.append(make_account(s).id))


def send_code(db, service, purpose, phone=PHONE):
    with transaction(db) as s:
        service(s).send_code(purpose, phone)
        return outbox_code(s, phone)


def wrong(code):
    return str((int(code) + 1) % 10 ** len(code)).zfill(len(code))


def code_row(db, purpose, phone=PHONE):
    with transaction(db) as s:
        row = s.scalars(select(OneTimeCode).where(OneTimeCode.purpose == purpose, OneTimeCode.recipient == phone)
                        .order_by(OneTimeCode.id.desc())).first()
        return row.attempts, row.consumed_at is not None


def events(db, account_id):
    with transaction(db) as s:
        return s.scalars(select(AuditEvent.event).where(AuditEvent.account_id == account_id)
                         .order_by(AuditEvent.id)).all()


def signs_in(db, service, username, password):
    try:
        with transaction(db) as s:
            service(s).login_password(username, password, captcha_passed=True)
        return True
    except InvalidCredentials:
        return False


def register(engine, service, code, username="zhangsan", then=None):
    return password_flows.register_account(engine, service, phone=PHONE, code=code, username=username,
                                           password=PASSWORD, kind="personal", then=then)


# ---- registration ------------------------------------------------------------------------

def test_registration_hashes_with_no_connection_held_and_another_writer_goes_on(db, engine, service, hasher):
    code = send_code(db, service, "register")
    writes, then = [], []
    hasher.hooks = [another_writer(db, writes)]
    account = register(engine, service, code, then=lambda s, a: then.append(a.id))
    assert hasher.calls == [("hash", 0)]
    assert len(writes) == 1
    assert then == [account.id]                          # the caller's part, in step 3
    assert code_row(db, "register") == (0, True)         # the code used, with the account
    assert events(db, account.id) == ["account.registered"]
    assert signs_in(db, service, "zhangsan", PASSWORD)


def test_a_wrong_code_is_refused_before_any_hash_and_its_try_counts(db, engine, service, hasher):
    code = send_code(db, service, "register")
    with pytest.raises(InvalidCode):
        register(engine, service, wrong(code))
    assert hasher.calls == []
    assert code_row(db, "register") == (1, False)
    with transaction(db) as s:
        assert s.scalars(select(Account).where(Account.username == "zhangsan")).first() is None


def test_a_name_taken_while_hashing_is_refused_and_the_code_stays_usable(db, engine, service, hasher):
    code = send_code(db, service, "register")
    hasher.hooks = [meanwhile(db, lambda s: make_account(s, username="zhangsan"))]
    with pytest.raises(Conflict) as info:
        register(engine, service, code)
    assert info.value.field == "username"
    assert code_row(db, "register") == (0, False)        # not spent on a registration that failed
    assert register(engine, service, code, username="zhangsan2").username == "zhangsan2"


def test_one_code_registers_one_account_when_two_requests_hash_at_once(db, engine, service, hasher):
    code = send_code(db, service, "register")
    second = []
    # a double submit: the second request runs whole while the first one hashes
    hasher.hooks = [lambda: second.append(register(engine, service, code, username="zhangsan2").username)]
    with pytest.raises(Conflict) as info:   # step 3 checks again: the phone is now registered
        register(engine, service, code)
    assert info.value.field == "phone"
    assert second == ["zhangsan2"]
    with transaction(db) as s:
        assert s.scalars(select(Account.username).where(Account.phone == PHONE)).all() == ["zhangsan2"]


# ---- password reset ----------------------------------------------------------------------

def test_reset_hashes_with_no_connection_held_and_ends_the_sessions_in_its_transaction(db, engine, service, hasher):
    with transaction(db) as s:
        account_id = make_account(s, username="lisi", phone=PHONE).id
    code = send_code(db, service, "reset")
    writes, ended = [], []
    hasher.hooks = [another_writer(db, writes)]
    password_flows.reset_password(engine, service, phone=PHONE, code=code, new_password=NEW_PASSWORD,
                                  then=lambda s, a: ended.append(a.id))
    assert hasher.calls == [("hash", 0)]
    assert len(writes) == 1 and ended == [account_id]
    assert code_row(db, "reset") == (0, True)
    assert events(db, account_id)[-1] == "password.reset"
    assert signs_in(db, service, "lisi", NEW_PASSWORD)
    assert not signs_in(db, service, "lisi", PASSWORD)


def test_a_reset_with_a_wrong_code_hashes_nothing_and_changes_nothing(db, engine, service, hasher):
    with transaction(db) as s:
        make_account(s, username="lisi", phone=PHONE)
    code = send_code(db, service, "reset")
    with pytest.raises(InvalidCode):
        password_flows.reset_password(engine, service, phone=PHONE, code=wrong(code), new_password=NEW_PASSWORD)
    assert hasher.calls == []
    assert code_row(db, "reset") == (1, False)
    assert signs_in(db, service, "lisi", PASSWORD)


# ---- password change ---------------------------------------------------------------------

def change(engine, service, account_id, old, new=NEW_PASSWORD, then=None):
    return password_flows.change_password(engine, service, account_id, old, new, then=then)


def test_a_change_verifies_and_hashes_with_no_connection_held(db, engine, service, hasher):
    with transaction(db) as s:
        account_id = make_account(s, username="wangwu").id
    writes, ended = [], []
    hasher.hooks = [another_writer(db, writes), another_writer(db, writes)]
    change(engine, service, account_id, PASSWORD, then=lambda s, a: ended.append(a.id))
    assert hasher.calls == [("verify", 0), ("hash", 0)]
    assert len(writes) == 2 and ended == [account_id]
    assert events(db, account_id)[-1] == "password.changed"
    assert signs_in(db, service, "wangwu", NEW_PASSWORD)


def test_a_wrong_old_password_counts_like_a_login_and_hashes_no_new_one(db, engine, service, hasher):
    with transaction(db) as s:
        account_id = make_account(s, username="wangwu").id
    with pytest.raises(InvalidCredentials) as info:
        change(engine, service, account_id, "Wrong@pass2026", then=lambda s, a: pytest.fail("nothing to end"))
    assert info.value.field == "old_password"
    assert info.value.data["attempts_left"] == 4
    assert hasher.calls == [("verify", 0)]
    assert events(db, account_id) == ["login.failed"]
    assert signs_in(db, service, "wangwu", PASSWORD)


def test_the_old_password_no_longer_counts_once_another_change_committed_meanwhile(db, engine, service, hasher):
    with transaction(db) as s:
        account_id = make_account(s, username="wangwu").id
    hasher.hooks = [meanwhile(db, lambda s: service(s).change_password(s.get(Account, account_id), PASSWORD,
                                                                         "Ot@pass2026y"))]
    with pytest.raises(InvalidCredentials) as info:
        change(engine, service, account_id, PASSWORD)
    # counted like a wrong password (the other change's success had reset the count)
    assert info.value.data["attempts_left"] == 4
    assert events(db, account_id)[-1] == "login.failed"
    assert signs_in(db, service, "wangwu", "Ot@pass2026y")
    assert not signs_in(db, service, "wangwu", NEW_PASSWORD)


def test_a_change_still_goes_through_when_a_login_rehashed_the_same_password_meanwhile(db, engine, service, hasher):
    with transaction(db) as s:
        account_id = make_account(s, username="wangwu", password_hash=pbkdf2_sha256.hash(PASSWORD)).id
    hasher.hooks = [lambda: password_flows.login_with_password(engine, service, "wangwu", PASSWORD,
                                                               captcha_passed=True)]
    change(engine, service, account_id, PASSWORD)
    # its verify, the login's (which rehashed), the new password's hash, its verify again against the
    # login's argon2id hash; the new password is not hashed twice
    assert [what for what, _ in hasher.calls] == ["verify", "verify", "hash", "verify"]
    assert signs_in(db, service, "wangwu", NEW_PASSWORD)


def test_a_change_is_refused_when_the_account_was_disabled_meanwhile(db, engine, service, hasher):
    with transaction(db) as s:
        account_id = make_account(s, username="wangwu").id
    hasher.hooks = [meanwhile(db, lambda s: service(s).set_disabled("wangwu", True, actor="support"))]
    with pytest.raises(AccountDisabled):
        change(engine, service, account_id, PASSWORD)
    with transaction(db) as s:
        assert s.get(Account, account_id).password_hash.startswith("$argon2")
        assert not hasher.verify(NEW_PASSWORD, s.get(Account, account_id).password_hash)[0]


# ---- login -------------------------------------------------------------------------------

def test_a_login_verifies_with_no_connection_held(db, engine, service, hasher):
    with transaction(db) as s:
        account_id = make_account(s, username="zhaoliu").id
    writes = []
    hasher.hooks = [another_writer(db, writes)]
    account = password_flows.login_with_password(engine, service, "zhaoliu", PASSWORD, captcha_passed=True)
    assert account.id == account_id
    assert hasher.calls == [("verify", 0)] and len(writes) == 1
