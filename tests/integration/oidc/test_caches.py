"""The per-worker caches of the protocol endpoints (README "Performance"): what another process
changes in the database (a client's secret, its removal, the active signing key) takes effect
within the documented seconds, measured with the injected clock."""
from __future__ import annotations

from sqlalchemy import select, update

from binding.db import transaction
from binding.oauth import KeyStore, OAuthClient, OidcSettings, SigningKey
from binding.oauth.models import secret_hash
from binding.oauth.clients import CLIENT_CACHE_SECONDS
from binding.oauth.keys import ACTIVE_KEY_CACHE_SECONDS

from .conftest import PORTAL, add_client, login


def _client_credentials(rp, secret):
    return rp("smebj", secret=secret).token(grant_type="client_credentials", scope="declarations.read")


def test_a_changed_client_secret_is_required_once_the_cache_ttl_has_passed(rp, cast, db, clock):
    old = rp("smebj").secret
    assert _client_credentials(rp, old).status_code == 200          # smebj is now in the cache
    with transaction(db) as session:                                  # another process changes it
        session.execute(update(OAuthClient).where(OAuthClient.client_id == "smebj")
                        .values(secret_hash=secret_hash("a-new-secret-0123456789abcdef-0123")))
    clock.advance(CLIENT_CACHE_SECONDS)
    assert _client_credentials(rp, old).status_code == 401
    assert _client_credentials(rp, "a-new-secret-0123456789abcdef-0123").status_code == 200


def test_a_removed_client_is_refused_once_the_cache_ttl_has_passed(rp, cast, db, clock):
    assert _client_credentials(rp, rp("smebj").secret).status_code == 200
    with transaction(db) as session:
        session.delete(session.scalar(select(OAuthClient).where(OAuthClient.client_id == "smebj")))
    clock.advance(CLIENT_CACHE_SECONDS)
    assert _client_credentials(rp, rp("smebj").secret).status_code == 401


def test_a_new_client_works_at_once(rp, cast, client, clock):
    """Unknown clients are not remembered: a client added a moment ago is known at once."""
    assert rp("fresh-portal", secret="x" * 40).token(grant_type="client_credentials").status_code == 401
    secret = add_client(cast, clock, client_id="fresh-portal", redirect_uris=(f"{PORTAL}/fresh-portal/callback",),
                        grant_types=("authorization_code", "refresh_token"), policy={"first_party": True})
    login(client, "zhangsan")
    assert rp("fresh-portal", secret=secret).tokens()["access_token"]


def test_a_key_rotated_elsewhere_signs_new_tokens_once_the_cache_ttl_has_passed(rp, cast, db, client, clock):
    login(client, "zhangsan")
    smebj = rp("smebj")
    old_kid = smebj.verify(smebj.tokens()["id_token"])["header"]["kid"]
    with transaction(db) as session:                                  # `broker keys rotate` elsewhere
        new_kid = KeyStore(session, OidcSettings(), clock).rotate("ES256").kid
    within = smebj.tokens()
    # Signed meanwhile with the retired key: still published, so it verifies; header and key agree.
    assert smebj.verify(within["id_token"])["header"]["kid"] == smebj.verify(within["access_token"])["header"]["kid"]
    clock.advance(ACTIVE_KEY_CACHE_SECONDS)
    after = smebj.tokens()
    assert smebj.verify(after["id_token"])["header"]["kid"] == new_kid != old_kid
    assert smebj.verify(after["access_token"])["header"]["kid"] == new_kid
    with db() as session:
        assert session.scalar(select(SigningKey.kid).where(SigningKey.retired_at.is_(None),
                                                           SigningKey.alg == "ES256")) == new_kid
