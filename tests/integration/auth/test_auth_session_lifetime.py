"""A broker session's lifetimes (OWASP Session Management Cheat Sheet: idle and absolute
timeouts, server-side invalidation; ``binding.login_sessions``), and what a signed-in request
costs the database: a read, with a write at most once a minute."""
from sqlalchemy import select, update

from binding.models import Account, LoginSession
from config import SessionSettings
from tests.support.statements import driver_statements

IDLE = SessionSettings().idle_timeout_seconds
ABSOLUTE = SessionSettings().absolute_lifetime_seconds


def _session_of(app, username):
    with app.extensions["tongxing"].sessions.begin() as db:
        row = db.scalars(select(LoginSession).join(Account, Account.id == LoginSession.account_id)
                         .where(Account.username == username).order_by(LoginSession.id.desc())).first()
        return row.revoked_at, row.revoked_reason, row.last_seen_at


def test_an_idle_session_ends(app, user, clock, account_named):
    account_named("pia", "13900000031")
    user.login("pia")
    clock.advance(IDLE - 1)
    assert user.signed_in_as() == "pia"          # activity: the idle clock starts again
    clock.advance(IDLE - 1)
    assert user.signed_in_as() == "pia"
    cookie = user.client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    clock.advance(IDLE)
    assert user.signed_in_as() is None
    revoked_at, reason, _ = _session_of(app, "pia")
    assert reason == "idle" and revoked_at == clock()
    clock.advance(-IDLE)            # ended in the database: the old cookie is worthless even then
    replay = app.test_client()
    replay.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    assert replay.get("/account", headers={"Accept": "application/json"}).status_code == 401


def test_an_active_session_still_ends_at_its_absolute_lifetime(app, user, clock, account_named):
    account_named("quin", "13900000032")
    user.login("quin")
    step = IDLE // 2
    for _ in range(ABSOLUTE // step - 1):
        clock.advance(step)
        assert user.signed_in_as() == "quin"
    clock.advance(step)
    assert user.signed_in_as() is None


def test_a_session_of_an_account_disabled_behind_its_back_ends(app, user, account_named):
    account_named("ray", "13900000033")
    user.login("ray")
    with app.extensions["tongxing"].sessions.begin() as db:   # not through set_disabled: no revocation
        db.execute(update(Account).where(Account.username == "ray").values(status="disabled"))
    assert user.signed_in_as() is None
    assert _session_of(app, "ray")[1] == "disabled"


def test_a_signed_in_page_writes_its_session_at_most_once_a_minute(app, user, clock, account_named):
    """The session is checked, and the account page read, in read-only transactions (on SQLite
    a write transaction takes the database's one write lock); only moving ``last_seen_at``
    (once a minute) writes."""
    account_named("sue", "13900000034")
    user.login("sue")
    services = app.extensions["tongxing"]
    clock.advance(59)
    with driver_statements(services.engine) as writes, driver_statements(services.read_engine) as reads:
        assert user.signed_in_as() == "sue"
    assert [s for s in reads + writes if "FROM login_sessions" in s]
    assert not [s for s in reads + writes if s.lstrip().startswith("UPDATE login_sessions")]
    if services.engine.dialect.name == "sqlite":   # its own read-only engine: no write lock taken
        assert not writes                           # neither for the session nor for the page
    clock.advance(2)
    with driver_statements(services.engine) as writes:
        assert user.signed_in_as() == "sue"
    assert len([s for s in writes if s.lstrip().startswith("UPDATE login_sessions")]) == 1
    assert _session_of(app, "sue")[2] == clock()
