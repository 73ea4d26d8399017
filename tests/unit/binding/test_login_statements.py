"""Issue 5: a password login's reads and writes on the DB-API cursor (binding.prepared) find,
lock and store exactly what the ORM did, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from binding.account_lookup import account_for_update, find_by_identifier, password_of
from binding.audit import Audit
from binding.db import transaction
from binding.login_sessions import LoginSessions
from binding.models import Account, AuditEvent, LoginSession
from config import SessionSettings
from tests.support.factories import bind_enterprise, make_account, make_enterprise

AT = datetime(2026, 11, 23, 9, 0, 0, 250000, tzinfo=timezone.utc)


@pytest.fixture
def people(db):
    """A legal-person account bound to an enterprise, a personal one bound to another."""
    with transaction(db) as session:
        legal = make_account(session, username="LegalOne", email="Legal.One@example.cn", kind="enterprise")
        person = make_account(session, username="person_two", email="two@example.cn")
        bind_enterprise(session, legal, make_enterprise(session, uscc="91110108MA01BJ2K6M"))
        bind_enterprise(session, person, make_enterprise(session, uscc="91370100MA3C5LXX0F", name="济南示例"))
        return {"legal": (legal.id, legal.phone), "person": (person.id, person.phone)}


@pytest.mark.parametrize("kind, value, who", [
    ("username", "legalone", "legal"), ("username", "  LEGALONE ", "legal"), ("email", "LEGAL.one@example.cn", "legal"),
    ("uscc", "91110108MA01BJ2K6M", "legal"),
    ("uscc", "91370100MA3C5LXX0F", None),   # a personal account may not log in with its enterprise's USCC
    ("username", "nobody", None), ("email", "nobody@example.cn", None), ("phone", "13700000000", None),
])
def test_the_read_step_finds_the_account_the_orm_finds(db, people, kind, value, who):
    with transaction(db) as session:
        found = password_of(session, kind, value)
        account = find_by_identifier(session, kind, value)
    expected = people[who][0] if who else None
    assert (found.id if found else None) == (account.id if account else None) == expected
    if found:
        assert found.password_hash == account.password_hash and found.password_hash.startswith("$argon2id$")


def test_the_read_step_by_phone(db, people):
    account_id, phone = people["person"]
    with transaction(db) as session:
        assert password_of(session, "phone", phone).id == account_id


def test_the_account_reread_for_update_is_the_sessions_own_and_its_changes_are_stored(db, people):
    account_id = people["legal"][0]
    with transaction(db) as session:
        account = account_for_update(session, account_id)
        assert account in session and account is session.get(Account, account_id)
        assert (account.username, account.kind) == ("LegalOne", "enterprise")
        assert account.created_at.utcoffset() == timedelta(0)
        assert not session.dirty and not session.new   # attached as loaded, nothing to write
        account.password_hash = "$argon2id$rehashed"
    with transaction(db) as session:
        assert session.get(Account, account_id).password_hash == "$argon2id$rehashed"


def test_an_account_the_session_holds_is_refreshed_not_doubled(db, people):
    account_id = people["legal"][0]
    with transaction(db) as session:
        held = session.get(Account, account_id)
        session.execute(update(Account).where(Account.id == account_id).values(status="disabled")
                        .execution_options(synchronize_session=False))   # behind the instance's back
        assert account_for_update(session, account_id) is held and held.status == "disabled"
        assert account_for_update(session, 10**9) is None


def test_a_session_row_is_written_as_started(db, people):
    account_id = people["person"][0]
    with transaction(db) as session:
        token, new = LoginSessions(session, SessionSettings(), lambda: AT).start(
            session.get(Account, account_id), ("pwd", "sms"), 2, ip="10.0.0.9", user_agent="x" * 300)
    with transaction(db) as session:
        row = session.get(LoginSession, new.id)
        assert (row.sid, row.created_at, row.account_id, row.auth_methods, row.cert_level) == (
            new.sid, AT, account_id, "pwd sms", 2)
        assert (row.ip, len(row.user_agent), row.revoked_at, row.expires_at - row.created_at) == (
            "10.0.0.9", 256, None, row.expires_at - AT)
        resolved = LoginSessions(session, SessionSettings(), lambda: AT).resolve(token)
        assert (resolved.session_id, resolved.sid, resolved.auth_methods) == (new.id, new.sid, ("pwd", "sms"))


def test_an_audit_row_is_written_in_the_callers_transaction(db):
    with pytest.raises(RuntimeError):
        with transaction(db) as session:
            Audit(session, lambda: AT, ip="10.0.0.1").record("login.succeeded", 7, method="password")
            assert session.scalar(select(AuditEvent.event).where(AuditEvent.account_id == 7)) == "login.succeeded"
            raise RuntimeError("the request failed")
    with transaction(db) as session:
        assert session.scalar(select(AuditEvent).where(AuditEvent.account_id == 7)) is None
        Audit(session, lambda: AT, request_id="r-1").record("account.locked", 7, actor="cli", unlock_at="x", n=[1, "二"])
    with transaction(db) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.account_id == 7)).one()
        assert (event.at, event.actor, event.request_id) == (AT, "cli", "r-1")
        assert event.detail == {"unlock_at": "x", "n": [1, "二"]}


def test_an_audit_row_inside_a_savepoint_goes_with_it(db):
    with transaction(db) as session:
        audit = Audit(session, lambda: AT)
        audit.record("kept", 8)
        with pytest.raises(RuntimeError):
            with session.begin_nested():
                audit.record("rolled.back", 8)
                raise RuntimeError("a refused link")
    with transaction(db) as session:
        assert session.scalars(select(AuditEvent.event).where(AuditEvent.account_id == 8)).all() == ["kept"]
