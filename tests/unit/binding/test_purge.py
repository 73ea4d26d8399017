"""``binding.purge``: what `broker db purge` deletes and what it keeps (review B1), on the real
test database with the injected clock."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, inspect, select

from binding.audit import Audit
from binding.db import transaction
from binding.models import AuditEvent, LoginSession, OutboxMessage
from binding.oauth.models import AuthorizationCode, OAuthGrant, OAuthToken
from binding.purge import purge
from tests.support.factories import make_account

DAY = timedelta(days=1)


def _code(db, account, clock, code_hash, *, expires_in):
    now = clock()
    db.add(AuthorizationCode(code_hash=code_hash, client_id="portal", account_id=account.id, redirect_uri="https://p/cb",
                             scope="openid", nonce="n-" + code_hash, sid="s1", auth_time=now, cert_level=1, amr="pwd",
                             created_at=now, expires_at=now + expires_in))


def _grant(db, clock, name, *, expires_in, access_expires_in):
    now = clock()
    grant = OAuthGrant(client_id="portal", grant_type="authorization_code", scope="openid", created_at=now,
                       expires_at=now + expires_in)
    db.add(grant)
    db.flush()
    db.add(OAuthToken(grant_id=grant.id, client_id="portal", access_token_hash="a-" + name, jti="j-" + name,
                      scope="openid", issued_at=now, access_expires_at=now + access_expires_in))
    return grant.id


def _login_session(db, account, clock, name, *, expires_in, revoked_ago=None):
    now = clock()
    db.add(LoginSession(token_hash="t-" + name, account_id=account.id, auth_methods="pwd", created_at=now,
                        last_seen_at=now, expires_at=now + expires_in,
                        revoked_at=None if revoked_ago is None else now - revoked_ago))


def _count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_purge_deletes_only_what_is_past_its_life_and_keeps_the_audit_trail(db, clock):
    with transaction(db) as session:
        account = make_account(session)
        Audit(session, clock).record("login.succeeded", account.id)
        _code(session, account, clock, "expired-long-ago", expires_in=-31 * DAY)
        _code(session, account, clock, "expired-recently", expires_in=-timedelta(seconds=1))  # replay still detected
        _code(session, account, clock, "fresh", expires_in=timedelta(minutes=1))
        dead = _grant(session, clock, "dead", expires_in=-DAY, access_expires_in=-DAY)
        _grant(session, clock, "refreshable", expires_in=DAY, access_expires_in=-DAY)
        _grant(session, clock, "last-access", expires_in=-DAY, access_expires_in=timedelta(minutes=5))
        _login_session(session, account, clock, "revoked-long-ago", expires_in=DAY, revoked_ago=31 * DAY)
        _login_session(session, account, clock, "revoked-recently", expires_in=DAY, revoked_ago=DAY)
        _login_session(session, account, clock, "expired-long-ago", expires_in=-31 * DAY)
        _login_session(session, account, clock, "expired-recently", expires_in=-DAY)
        _login_session(session, account, clock, "live", expires_in=DAY)
        session.add(OutboxMessage(channel="sms", recipient="13900000000", body="old", created_at=clock() - 31 * DAY))
        session.add(OutboxMessage(channel="sms", recipient="13900000000", body="new", created_at=clock() - DAY))

    with transaction(db) as session:
        purged = purge(session, clock, older_than=30 * DAY, actor="cli")

    assert (purged.codes, purged.grants, purged.tokens, purged.login_sessions, purged.outbox) == (1, 1, 1, 2, 1)
    with db() as session:
        assert set(session.scalars(select(AuthorizationCode.code_hash))) == {"expired-recently", "fresh"}
        assert session.get(OAuthGrant, dead) is None and _count(session, OAuthGrant) == 2
        assert _count(session, OAuthToken, OAuthToken.grant_id == dead) == 0 and _count(session, OAuthToken) == 2
        kept = set(session.scalars(select(LoginSession.token_hash)))
        assert kept == {"t-revoked-recently", "t-expired-recently", "t-live"}
        assert session.scalars(select(OutboxMessage.body)).all() == ["new"]
        assert _count(session, AuditEvent, AuditEvent.event == "login.succeeded") == 1
        event = session.scalars(select(AuditEvent).where(AuditEvent.event == "data.purged")).one()
        assert (event.actor, event.detail["login_sessions"], event.detail["older_than_days"]) == ("cli", 2, 30)


def test_later_on_the_clock_the_same_rows_are_purged(db, clock):
    with transaction(db) as session:
        account = make_account(session)
        _code(session, account, clock, "fresh", expires_in=timedelta(minutes=1))
        _login_session(session, account, clock, "live", expires_in=DAY)
    with transaction(db) as session:
        assert purge(session, clock, older_than=30 * DAY).codes == 0

    clock.advance(days=32)
    with transaction(db) as session:
        purged = purge(session, clock, older_than=30 * DAY)
    assert (purged.codes, purged.login_sessions) == (1, 1)


def test_the_nonce_check_has_its_index(engine):
    indexes = {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("oauth_codes")}
    assert indexes["ix_oauth_codes_client_nonce"] == ["client_id", "nonce"]
