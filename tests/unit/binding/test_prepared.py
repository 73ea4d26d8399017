"""binding.prepared: the token endpoint's statements on the DB-API cursor store and read
exactly what SQLAlchemy would, in the session's transaction, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, exc, select, text

from binding.oauth import statements as sql
from binding.prepared import Prepared
from binding.oauth.models import OAuthGrant, OAuthToken
from tests.support.factories import make_account

AT = datetime(2026, 11, 23, 9, 0, 0, tzinfo=timezone.utc)   # whole seconds: SQLite's text drops nothing


def _grant(session) -> int:
    grant = OAuthGrant(client_id="smebj", grant_type="client_credentials", scope="", created_at=AT,
                       expires_at=AT + timedelta(days=7))
    session.add(grant)
    session.flush()
    return grant.id


def _token(grant_id: int, n: int, **overrides) -> dict:
    row = {"grant_id": grant_id, "client_id": "smebj", "access_token_hash": f"a{n}", "jti": f"j{n}",
           "refresh_token_hash": f"r{n}", "scope": "openid", "issued_at": AT + timedelta(microseconds=123456),
           "access_expires_at": AT + timedelta(minutes=5), "refresh_expires_at": AT + timedelta(days=1),
           "refresh_used_at": None, "revoked_at": None}
    row.update(overrides)
    return row


def test_a_prepared_insert_stores_what_the_orm_stores(db):
    """Same column values byte for byte (SQLite keeps datetimes as text in SQLAlchemy's format)."""
    with db.begin() as session:
        grant_id = _grant(session)
        session.add(OAuthToken(**_token(grant_id, 1)))
        session.flush()
        sql.INSERT_TOKEN.run(session.connection(), _token(grant_id, 2))
    with db() as session:
        raw = session.execute(text("SELECT access_token_hash, issued_at, access_expires_at, refresh_used_at "
                                   "FROM oauth_tokens ORDER BY access_token_hash")).all()
        assert [tuple(r[1:]) for r in raw] == [tuple(raw[0][1:])] * 2
        loaded = session.scalars(select(OAuthToken).where(OAuthToken.access_token_hash == "a2")).one()
        assert loaded.issued_at == AT + timedelta(microseconds=123456)
        assert loaded.issued_at.tzinfo is not None


def test_prepared_rows_carry_the_columns_types(db):
    with db.begin() as session:
        account = make_account(session, phone_verified=True)
        grant_id = _grant(session)
        sql.INSERT_TOKEN.run(session.connection(), _token(grant_id, 3))
        claimed = sql.CLAIM_REFRESH.first(session.connection(), {"p_hash": "r3", "p_client": "smebj", "p_now": AT})
        subject = sql.SUBJECT.first(session.connection(), {"p_account": account.id})
    assert claimed.grant_id == grant_id and claimed.scope == "openid"
    assert claimed.refresh_expires_at == AT + timedelta(days=1) and claimed.refresh_expires_at.tzinfo is not None
    assert subject.public_id == account.public_id and subject.phone_verified is True
    with db() as session:   # the claim ran in the session's transaction and committed with it
        assert session.scalar(select(OAuthToken.refresh_used_at).where(OAuthToken.refresh_token_hash == "r3")) == AT


def test_a_claim_wins_once(db):
    with db.begin() as session:
        sql.INSERT_TOKEN.run(session.connection(), _token(_grant(session), 4))
    for expected in (True, False):
        with db.begin() as session:
            claimed = sql.CLAIM_REFRESH.first(session.connection(), {"p_hash": "r4", "p_client": "smebj", "p_now": AT})
            assert (claimed is not None) is expected


def test_rolled_back_with_the_session(db):
    with pytest.raises(RuntimeError):
        with db.begin() as session:
            sql.INSERT_TOKEN.run(session.connection(), _token(_grant(session), 5))
            raise RuntimeError("the request failed")
    with db() as session:
        assert session.scalar(select(OAuthToken.id).where(OAuthToken.jti == "j5")) is None


def test_a_naive_datetime_is_refused_before_anything_is_written(db):
    with pytest.raises(ValueError, match="naive"):
        with db.begin() as session:
            sql.INSERT_TOKEN.run(session.connection(), _token(_grant(session), 6, issued_at=datetime(2026, 1, 1)))


def test_driver_errors_are_sqlalchemy_errors(db):
    """A unique violation is sqlalchemy.exc.IntegrityError, as from Connection.execute."""
    with pytest.raises(exc.IntegrityError):
        with db.begin() as session:
            grant_id = _grant(session)
            sql.INSERT_TOKEN.run(session.connection(), _token(grant_id, 7))
            sql.INSERT_TOKEN.run(session.connection(), _token(grant_id, 7, jti="other"))


def test_every_column_but_the_key_is_required(db):
    row = _token(1, 8)
    del row["revoked_at"]
    with db.begin() as session, pytest.raises(KeyError):
        sql.INSERT_TOKEN.run(session.connection(), row)


def test_driver_errors_keep_the_parameters_out_of_the_message(db):
    """The engine hides parameters (hashes, phone numbers) from exception texts, so from logs
    (the database's own message may still name the conflicting key, as with Connection.execute)."""
    with pytest.raises(exc.IntegrityError) as raised:
        with db.begin() as session:
            grant_id = _grant(session)
            sql.INSERT_TOKEN.run(session.connection(), _token(grant_id, 9))
            sql.INSERT_TOKEN.run(session.connection(), _token(grant_id, 9, jti="other", refresh_token_hash="SECRET-HASH"))
    assert "SECRET-HASH" not in str(raised.value) and "parameters hidden" in str(raised.value)


@pytest.mark.parametrize("where", [
    lambda: OAuthToken.jti == "a literal",
    lambda: OAuthToken.jti.in_(bindparam("many", expanding=True)),
])
def test_statements_with_values_of_their_own_are_refused(db, where):
    with db.begin() as session, pytest.raises(ValueError, match="every value"):
        Prepared(select(OAuthToken.id).where(where())).run(session.connection(), {})


def test_literal_execute_binds_are_refused_too(db):
    with db.begin() as session, pytest.raises(ValueError, match="every value"):
        Prepared(select(OAuthToken.id).where(OAuthToken.jti == bindparam("p", literal_execute=True))).run(
            session.connection(), {"p": "x"})
