"""Issue 5: POST /login keeps no database transaction open while argon2 verifies the password.

On SQLite such a transaction holds the database write lock for the ~20 ms of the hash, so every
other writer waits (and the CPU idles); on PostgreSQL it keeps a transaction and its connection.
A probe wraps the real CryptContext of the app's hasher and, inside every verification, another
connection writes to the database with a short timeout (it must get through) and, on
PostgreSQL, looks for any other client backend with a transaction open (there must be none)."""
import sqlite3

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from binding.db import database_url
from binding.models import Account
from binding.passwords import PasswordHasher

WRONG = "Wrong#Pass99"


class DuringVerify:
    """The hasher's CryptContext, running ``hook`` inside each verification (real or dummy)."""

    def __init__(self, context, hook):
        self._context, self._hook, self.calls = context, hook, 0

    def verify_and_update(self, password, stored_hash):
        self._run()
        return self._context.verify_and_update(password, stored_hash)

    def verify(self, password, stored_hash):
        self._run()
        return self._context.verify(password, stored_hash)

    def _run(self):
        self.calls += 1
        self._hook()

    def __getattr__(self, name):
        return getattr(self._context, name)


@pytest.fixture
def bystander(app, account_named):
    """Another account, whose row another request updates while the login verifies."""
    account_named("bystander", "13900000071")
    return "bystander"


@pytest.fixture
def writes_meanwhile(infra, bystander):
    """hook() -> what another client could do right then: ``written`` (its update got through
    within 0.2 s) or the error; on PostgreSQL also how many other backends had a transaction open."""
    url = database_url(infra["database_url"], infra["instance"])
    seen = []
    if make_url(url).get_backend_name() == "sqlite":
        path = make_url(url).database

        def hook():
            conn = sqlite3.connect(path, timeout=0.2, isolation_level=None)
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("UPDATE accounts SET display_name = 'written meanwhile' WHERE username = ?", (bystander,))
                conn.execute("COMMIT")
                seen.append("written")
            except sqlite3.OperationalError as exc:   # "database is locked"
                seen.append(str(exc))
            finally:
                conn.close()

        yield hook, seen
        return
    engine = create_engine(url)

    def hook():
        with engine.connect() as conn:
            conn.execute(text("SET lock_timeout = '200ms'"))
            conn.execute(text("UPDATE accounts SET display_name = 'written meanwhile' WHERE username = :u"),
                         {"u": bystander})
            conn.commit()
            others = conn.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"))
        seen.append("written" if others == 0 else f"{others} other transaction(s) open")

    yield hook, seen
    engine.dispose()


@pytest.fixture
def probe(app, settings, writes_meanwhile):
    hook, seen = writes_meanwhile
    hasher = PasswordHasher.for_settings(settings.password)   # the app's (shared) hasher
    real = hasher._context
    hasher._context = probe = DuringVerify(real, hook)
    probe.seen = seen
    yield probe
    hasher._context = real


def _display_name(app, username):
    with app.extensions["tongxing"].sessions() as db:
        return db.scalar(select(Account.display_name).where(Account.username == username))


@pytest.mark.parametrize("identifier, password, status", [
    ("tess", None, 200),           # the right password: signed in
    ("tess", WRONG, 401),          # a wrong one: refused, the failure recorded
    ("nobody", WRONG, 401),        # no such account: the dummy verification
], ids=["right", "wrong", "unknown"])
def test_no_transaction_is_open_while_the_password_is_verified(app, user, account_named, bystander, probe,
                                                                identifier, password, status):
    account_named("tess", "13900000072")
    response = user.login(identifier, password or user.PASSWORD)
    assert response.status_code == status, response.json
    assert probe.calls == 1
    assert probe.seen == ["written"]
    assert _display_name(app, bystander) == "written meanwhile"
    assert user.signed_in_as() == ("tess" if status == 200 else None)
