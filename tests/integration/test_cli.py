"""The ``broker`` command line against a real database and Redis."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, select

from binding.accounts import build_account_service
from binding.db import transaction
from binding.errors import AccountDisabled, AccountLocked, InvalidCredentials
from binding.login_sessions import LoginSessions
from binding.models import Account, AuditEvent, LoginSession
from binding.passwords import PasswordHasher
from broker.cli import main
from config import system_clock
from tests.conftest import TEST_SECRET

PASSWORD = "Zl@cli2026!"
BROKER = Path(sys.executable).with_name("broker")  # the console script of this venv


def _env(infra) -> dict[str, str | None]:
    """The settings an operator would export to reach the test database and Redis."""
    return {"DATABASE_URL": infra["database_url"], "REDIS_URL": infra["redis_url"],
            "BROKER_INSTANCE": infra["instance"], "SECRET_KEY": TEST_SECRET, "BROKER_ENV": "test",
            "BROKER_CONFIG": None}


def _broker(infra, *args: str):
    return CliRunner().invoke(main, list(args), env=_env(infra), catch_exceptions=False)


def _service(db, settings):
    # The CLI acts in real time, so the locks it clears are set in real time too.
    return build_account_service(db, settings=settings, redis=_redis(settings), clock=system_clock)


def _redis(settings):
    import redis

    return redis.Redis.from_url(settings.redis_url)


@pytest.fixture
def account(db, settings):
    with transaction(db) as session:
        row = Account(username="zhaoliu", phone="13900139002", phone_verified=True, kind="personal",
                      password_hash=PasswordHasher.for_settings(settings.password).hash(PASSWORD),
                      created_at=system_clock())
        session.add(row)
    return row


def _login(db, settings, password=PASSWORD):
    with transaction(db) as session:
        return _service(session, settings).login_password("zhaoliu", password, captcha_passed=False)


def _lock(db, settings):
    for _ in range(settings.lockout.max_failures):
        with pytest.raises(InvalidCredentials):
            _login(db, settings, "Wrong@pass1")
    with pytest.raises(AccountLocked):
        _login(db, settings)


def test_db_upgrade_migrates_a_fresh_sqlite_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    env = {"DATABASE_URL": url, "BROKER_INSTANCE": str(tmp_path), "REDIS_URL": None, "BROKER_CONFIG": None,
           "BROKER_ENV": None}
    runner = CliRunner()
    before = runner.invoke(main, ["db", "current"], env=env)
    assert before.exit_code == 0 and "no schema" in before.output
    result = runner.invoke(main, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    engine = create_engine(url)
    assert {"accounts", "login_sessions", "outbox", "audit_events"} <= set(inspect(engine).get_table_names())
    engine.dispose()
    after = runner.invoke(main, ["db", "current"], env=env)
    assert after.output.strip() != "" and "no schema" not in after.output
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0  # idempotent


def test_users_unlock_lets_the_owner_sign_in_again(infra, db, settings, account):
    _lock(db, settings)
    result = _broker(infra, "users", "unlock", "13900139002")  # any identifier of the account
    assert result.exit_code == 0 and "unlocked" in result.output
    assert _login(db, settings).username == "zhaoliu"
    with db() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.event == "account.unlocked")).one()
    assert (event.account_id, event.actor) == (account.id, "cli")


def test_users_unlock_of_an_unlocked_account_says_so(infra, account):
    result = _broker(infra, "users", "unlock", "zhaoliu")
    assert result.exit_code == 0 and "was not locked" in result.output


def test_users_disable_ends_sessions_and_refuses_login_until_enabled(infra, db, settings, account):
    with transaction(db) as session:
        LoginSessions(session, settings.session, system_clock).start(session.get(Account, account.id), ("pwd",), 1)
    result = _broker(infra, "users", "disable", "zhaoliu")
    assert result.exit_code == 0 and "1 session(s) ended" in result.output
    with db() as session:
        live = session.scalars(select(LoginSession).where(LoginSession.revoked_at.is_(None))).all()
    assert live == []
    with pytest.raises(AccountDisabled):
        _login(db, settings)
    assert _broker(infra, "users", "enable", "zhaoliu").exit_code == 0
    assert _login(db, settings).username == "zhaoliu"


def test_unknown_login_is_refused_with_exit_1(infra, engine):
    result = CliRunner().invoke(main, ["users", "disable", "nobody"], env=_env(infra))
    assert result.exit_code == 1
    assert "No account matches" in result.output


def test_configuration_errors_list_every_problem_and_exit_2():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BROKER_", "SECRET_KEY"))}
    env.update({"BROKER_ENV": "production", "BROKER_ISSUER": "http://sso.example.cn",
                "BROKER_LOCKOUT_MAX_FAILURES": "many"})
    result = subprocess.run([str(BROKER), "db", "current"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    for name in ("BROKER_ISSUER", "SECRET_KEY", "BROKER_LOCKOUT_MAX_FAILURES"):
        assert name in result.stderr
    assert "Traceback" not in result.stderr


def test_config_reference_prints_every_setting():
    from config import setting_reference

    result = CliRunner().invoke(main, ["config", "reference"])
    assert result.exit_code == 0
    for env, key, _ in setting_reference():
        assert f"| `{env}` | `{key}` |" in result.output


def test_db_purge_deletes_old_outbox_messages_and_keeps_recent_ones(infra, db):
    from datetime import timedelta

    from binding.models import OutboxMessage

    now = system_clock()
    with transaction(db) as session:
        session.add(OutboxMessage(channel="sms", recipient="13900000000", body="old", created_at=now - timedelta(days=8)))
        session.add(OutboxMessage(channel="sms", recipient="13900000000", body="new", created_at=now - timedelta(days=1)))
    result = _broker(infra, "db", "purge", "--older-than-days", "7")
    assert result.exit_code == 0 and "1 outbox message(s)" in result.output
    with db() as session:
        assert session.scalars(select(OutboxMessage.body)).all() == ["new"]
