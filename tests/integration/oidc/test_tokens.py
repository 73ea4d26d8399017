"""Codes, refresh tokens, introspection, revocation, client credentials, signing keys."""
from __future__ import annotations

import pytest
from joserfc.errors import ExpiredTokenError

from binding.db import transaction
from binding.oauth import KeyStore, OidcSettings
from binding.oauth.keys import ACTIVE_KEY_CACHE_SECONDS

from .conftest import PORTAL, add_client, login


@pytest.fixture
def signed_in(client, cast):
    login(client, "zhangsan")
    return client


# --- codes ------------------------------------------------------------------------------------
def test_code_is_single_use_and_a_replay_revokes_its_tokens(rp, signed_in):
    smebj = rp("smebj")
    code = smebj.code()
    first = smebj.exchange(code).get_json()
    assert smebj.userinfo(first["access_token"]).status_code == 200
    replay = smebj.exchange(code)
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    assert smebj.userinfo(first["access_token"]).status_code == 401
    assert smebj.introspect(first["access_token"]).get_json() == {"active": False}
    assert smebj.refresh(first["refresh_token"]).get_json()["error"] == "invalid_grant"


def test_code_lives_sixty_seconds(rp, signed_in, clock):
    smebj = rp("smebj")
    code = smebj.code()
    clock.advance(61)
    response = smebj.exchange(code)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"
    code = smebj.code()
    clock.advance(59)
    assert smebj.exchange(code).status_code == 200


def test_code_is_bound_to_its_client_and_redirect_uri(rp, signed_in):
    smebj, gjj = rp("smebj"), rp("gjj-fund")
    code = smebj.code()
    other_client = gjj.exchange(code, verifier=smebj.verifier, redirect_uri=smebj.redirect_uri)
    assert other_client.status_code == 400 and other_client.get_json()["error"] == "invalid_grant"
    code = smebj.code()
    other_uri = smebj.exchange(code, redirect_uri=f"{PORTAL}/gjj-fund/callback")
    assert other_uri.status_code == 400 and other_uri.get_json()["error"] == "invalid_grant"


def test_client_secret_is_checked(rp, signed_in):
    smebj = rp("smebj", secret="wrong-secret")
    response = smebj.exchange(smebj.code())
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


def test_confidential_client_cannot_skip_authentication(rp, signed_in):
    smebj = rp("smebj")
    code = smebj.code()
    response = signed_in.post("/token", data={"grant_type": "authorization_code", "code": code,
                                              "redirect_uri": smebj.redirect_uri, "client_id": "smebj",
                                              "code_verifier": smebj.verifier})
    assert response.status_code in (400, 401) and response.get_json()["error"] == "invalid_client"


# --- refresh tokens ---------------------------------------------------------------------------
def test_refresh_rotates_and_reuse_revokes_the_whole_grant(rp, signed_in):
    smebj = rp("smebj")
    first = smebj.tokens()
    second = smebj.refresh(first["refresh_token"]).get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    third = smebj.refresh(second["refresh_token"]).get_json()
    assert smebj.userinfo(third["access_token"]).status_code == 200
    reuse = smebj.refresh(first["refresh_token"])             # an old one comes back: stolen?
    assert reuse.status_code == 400 and reuse.get_json()["error"] == "invalid_grant"
    assert smebj.userinfo(third["access_token"]).status_code == 401
    assert smebj.refresh(third["refresh_token"]).get_json()["error"] == "invalid_grant"


def test_refresh_token_is_bound_to_its_client(rp, signed_in):
    tokens = rp("smebj").tokens()
    response = rp("gjj-fund").refresh(tokens["refresh_token"])
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_refresh_idle_lifetime(rp, signed_in, clock):
    smebj = rp("smebj")
    tokens = smebj.tokens()
    clock.advance(OidcSettings().refresh_idle_seconds + 1)
    assert smebj.refresh(tokens["refresh_token"]).get_json()["error"] == "invalid_grant"


def test_refresh_absolute_lifetime(rp, signed_in, clock):
    smebj = rp("smebj")
    token = smebj.tokens()["refresh_token"]
    step = OidcSettings().refresh_idle_seconds - 60
    elapsed = 0
    while elapsed + step < OidcSettings().refresh_absolute_seconds:
        clock.advance(step)
        elapsed += step
        response = smebj.refresh(token)
        assert response.status_code == 200, elapsed
        token = response.get_json()["refresh_token"]
    clock.advance(OidcSettings().refresh_absolute_seconds - elapsed + 1)
    assert smebj.refresh(token).get_json()["error"] == "invalid_grant"


def test_access_token_expires(rp, signed_in, clock):
    smebj = rp("smebj")
    access = smebj.tokens()["access_token"]
    clock.advance(OidcSettings().access_token_ttl_seconds + 1)
    assert smebj.userinfo(access).status_code == 401
    with pytest.raises(ExpiredTokenError):
        smebj.verify(access)


# --- introspection and revocation --------------------------------------------------------------
def test_introspection_for_the_owning_confidential_client(rp, signed_in):
    smebj = rp("smebj")
    tokens = smebj.tokens()
    info = smebj.introspect(tokens["access_token"]).get_json()
    assert info["active"] is True and info["client_id"] == "smebj" and info["scope"] == "openid profile phone"
    assert info["sub"] == smebj.verify(tokens["id_token"])["sub"] and info["username"] == "zhangsan"
    assert smebj.introspect(tokens["refresh_token"], token_type_hint="refresh_token").get_json()["active"]
    assert rp("gjj-fund").introspect(tokens["access_token"]).get_json() == {"active": False}
    assert smebj.introspect("garbage").get_json() == {"active": False}


def test_introspection_follows_each_token_state(rp, signed_in, clock):
    """RFC 7662 §2.2: what introspection answers as a token is used, rotated, revoked, expires."""
    smebj = rp("smebj")
    first = smebj.tokens()
    access = smebj.introspect(first["access_token"]).get_json()
    assert access["token_type"] == "Bearer" and access["jti"] == smebj.verify(first["access_token"])["jti"]
    assert access["exp"] - access["iat"] == OidcSettings().access_token_ttl_seconds
    refresh = smebj.introspect(first["refresh_token"], token_type_hint="refresh_token").get_json()
    assert refresh["token_type"] == "refresh_token" and "jti" not in refresh and refresh["username"] == "zhangsan"
    assert refresh["exp"] - refresh["iat"] == OidcSettings().refresh_idle_seconds
    # no hint: found as an access token first, then as a refresh token
    assert smebj.introspect(first["refresh_token"]).get_json()["token_type"] == "refresh_token"

    second = smebj.refresh(first["refresh_token"]).get_json()
    assert smebj.introspect(first["refresh_token"]).get_json() == {"active": False}     # rotated
    assert smebj.introspect(first["access_token"]).get_json()["active"] is True         # lives on
    assert smebj.revoke(second["access_token"]).status_code == 200
    assert smebj.introspect(second["access_token"]).get_json() == {"active": False}
    assert smebj.introspect(second["refresh_token"]).get_json()["active"] is True      # its grant lives

    clock.advance(OidcSettings().access_token_ttl_seconds + 1)
    assert smebj.introspect(first["access_token"]).get_json() == {"active": False}     # expired
    assert smebj.revoke(second["refresh_token"], token_type_hint="refresh_token").status_code == 200
    assert smebj.introspect(second["refresh_token"]).get_json() == {"active": False}   # grant revoked


def test_introspecting_a_client_credentials_token_names_the_client(rp, cast):
    smebj = rp("smebj")
    token = smebj.token(grant_type="client_credentials", scope="declarations.read").get_json()["access_token"]
    info = smebj.introspect(token).get_json()
    assert info["active"] is True and info["sub"] == "smebj" and info["client_id"] == "smebj"
    assert "username" not in info and info["scope"] == "declarations.read"


def test_introspection_needs_client_authentication(rp, signed_in):
    tokens = rp("smebj").tokens()
    anonymous = signed_in.post("/introspect", data={"token": tokens["access_token"]})
    assert anonymous.status_code == 401
    public = signed_in.post("/introspect", data={"token": tokens["access_token"], "client_id": "mobile-app"})
    assert public.status_code in (400, 401)


def test_revoking_an_access_token(rp, signed_in):
    smebj = rp("smebj")
    tokens = smebj.tokens()
    assert smebj.revoke(tokens["access_token"]).status_code == 200
    assert smebj.userinfo(tokens["access_token"]).status_code == 401
    assert smebj.refresh(tokens["refresh_token"]).status_code == 200   # the grant lives on


def test_revoking_a_refresh_token_revokes_the_grant(rp, signed_in):
    smebj = rp("smebj")
    tokens = smebj.tokens()
    assert smebj.revoke(tokens["refresh_token"], token_type_hint="refresh_token").status_code == 200
    assert smebj.userinfo(tokens["access_token"]).status_code == 401
    assert smebj.refresh(tokens["refresh_token"]).get_json()["error"] == "invalid_grant"


def test_a_client_cannot_revoke_another_clients_token(rp, signed_in):
    tokens = rp("smebj").tokens()
    assert rp("gjj-fund").revoke(tokens["access_token"]).status_code == 400
    assert rp("smebj").userinfo(tokens["access_token"]).status_code == 200


# --- client credentials -----------------------------------------------------------------------
def test_client_credentials_with_the_clients_own_scopes(rp, cast, client):
    smebj = rp("smebj")
    response = smebj.token(grant_type="client_credentials", scope="declarations.read")
    assert response.status_code == 200
    body = response.get_json()
    assert "refresh_token" not in body and body["scope"] == "declarations.read"
    claims = smebj.verify(body["access_token"], typ="at+jwt")
    assert claims["sub"] == "smebj" and claims["client_id"] == "smebj"
    assert smebj.introspect(body["access_token"]).get_json()["active"] is True
    assert smebj.userinfo(body["access_token"]).status_code == 403     # no user, no openid scope


@pytest.mark.parametrize("scope", ["openid", "enterprise", "declarations.write"])
def test_client_credentials_refuses_user_or_foreign_scopes(rp, cast, scope):
    response = rp("smebj").token(grant_type="client_credentials", scope=scope)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_scope"


def test_client_credentials_needs_the_grant_and_a_secret(rp, cast, db, clock):
    add_client(db, clock, client_id="no-cc", secret="no-cc-secret-0123456789abcdef",
               redirect_uris=(f"{PORTAL}/no-cc/callback",), scopes=("openid", "declarations.read"))
    response = rp("no-cc", secret="no-cc-secret-0123456789abcdef").token(grant_type="client_credentials")
    assert response.status_code == 400 and response.get_json()["error"] == "unauthorized_client"
    public = rp("mobile-app").token(grant_type="client_credentials")
    assert public.status_code in (400, 401)


# --- signing keys -----------------------------------------------------------------------------
def test_key_rotation_keeps_old_tokens_verifiable(rp, signed_in, db, clock):
    smebj = rp("smebj")
    old = smebj.tokens()
    old_kid = smebj.verify(old["id_token"])["header"]["kid"]
    with transaction(db) as session:
        KeyStore(session, OidcSettings(), clock).rotate("ES256")
    clock.advance(ACTIVE_KEY_CACHE_SECONDS)   # the worker's key cache re-reads the active key
    new = smebj.tokens()
    new_claims = smebj.verify(new["id_token"])
    assert new_claims["header"]["kid"] != old_kid
    assert smebj.verify(new["access_token"])["header"]["kid"] == new_claims["header"]["kid"]
    assert smebj.verify(old["id_token"])["header"]["kid"] == old_kid       # old key still in the JWKS
    kids = {k["kid"] for k in signed_in.get("/jwks.json").get_json()["keys"]}
    assert {old_kid, new_claims["header"]["kid"]} <= kids
    clock.advance(OidcSettings().key_retention_seconds + 1)              # every old token has expired
    kids = {k["kid"] for k in signed_in.get("/jwks.json").get_json()["keys"]}
    assert old_kid not in kids and new_claims["header"]["kid"] in kids


def test_rs256_per_client(rp, signed_in, db, clock):
    secret = add_client(db, clock, client_id="rsa-portal", secret="rsa-portal-secret-0123456789abcdef",
                        redirect_uris=(f"{PORTAL}/rsa-portal/callback",), signing_alg="RS256",
                        policy={"first_party": True})
    portal = rp("rsa-portal", secret=secret)
    tokens = portal.tokens()
    assert portal.verify(tokens["id_token"])["header"]["alg"] == "RS256"
    assert portal.verify(tokens["access_token"])["header"]["alg"] == "RS256"
