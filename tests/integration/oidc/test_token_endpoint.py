"""The token endpoint's own answers (``broker.oidc.token_endpoint``): RFC 6749 §5.1/§5.2 shapes,
client authentication methods, PKCE at the exchange, scope narrowing on refresh, ID-token
hashes, and a code raced by concurrent exchanges."""
from __future__ import annotations

import base64
import hashlib
import threading
from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import update

from binding.db import transaction
from binding.oauth import OAuthClient
from binding.oauth.clients import CLIENT_CACHE_SECONDS
from binding.purge import purge

from .conftest import add_client, login


@pytest.fixture
def signed_in(client, cast):
    login(client, "zhangsan")
    return client


def _no_store(response) -> None:
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Pragma"] == "no-cache"
    assert response.mimetype == "application/json"


def test_tokens_answer_is_json_and_never_cached(rp, signed_in):
    smebj = rp("smebj")
    response = smebj.exchange(smebj.code())
    assert response.status_code == 200
    _no_store(response)
    body = response.get_json()
    assert set(body) == {"token_type", "access_token", "expires_in", "refresh_token", "scope", "id_token"}
    assert body["token_type"] == "Bearer" and body["scope"] == "openid profile phone"


@pytest.mark.parametrize("form, error", [
    ({}, "unsupported_grant_type"),
    ({"grant_type": "password", "username": "zhangsan", "password": "x"}, "unsupported_grant_type"),
    ({"grant_type": "implicit"}, "unsupported_grant_type"),
    ({"grant_type": "authorization_code"}, "invalid_request"),          # no code
    ({"grant_type": "refresh_token"}, "invalid_request"),               # no refresh_token
    ({"grant_type": "authorization_code", "code": "made-up"}, "invalid_grant"),
    ({"grant_type": "refresh_token", "refresh_token": "made-up"}, "invalid_grant"),
])
def test_bad_requests_get_rfc6749_errors(rp, signed_in, form, error):
    response = rp("smebj").token(**form)
    assert response.status_code == 400 and response.get_json()["error"] == error
    assert response.get_json()["error_description"]
    _no_store(response)


def test_unknown_client_with_basic_gets_401_and_a_challenge(rp, signed_in):
    response = rp("no-such-portal", secret="whatever").token(grant_type="authorization_code", code="x")
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_client_secret_post_is_accepted(rp, signed_in):
    smebj = rp("smebj")
    code = smebj.code()
    response = signed_in.post("/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": smebj.redirect_uri,
        "code_verifier": smebj.verifier, "client_id": "smebj", "client_secret": "smebj-demo-secret"})
    assert response.status_code == 200 and response.get_json()["access_token"]


def test_a_client_without_the_refresh_grant_gets_no_refresh_token_and_may_not_refresh(rp, signed_in, cast, clock):
    secret = add_client(cast, clock, client_id="no-refresh", redirect_uris=("http://127.0.0.1:5002/nr/cb",),
                        grant_types=("authorization_code",), scopes=("openid", "profile"),
                        policy={"first_party": True})
    portal = rp("no-refresh", secret=secret, redirect_uri="http://127.0.0.1:5002/nr/cb")
    tokens = portal.tokens(scope="openid")
    assert "refresh_token" not in tokens and tokens["access_token"]
    refused = portal.refresh("anything")
    assert refused.status_code == 400 and refused.get_json()["error"] == "unauthorized_client"


def test_public_client_must_prove_pkce_at_the_exchange(rp, signed_in):
    app = rp("mobile-app", redirect_uri="tongxing-app://callback")
    code = app.code()
    missing = app.exchange(code, verifier=None)
    assert missing.status_code == 400 and missing.get_json()["error"] == "invalid_request"
    code = app.code()
    wrong = app.exchange(code, verifier="w" * 43)
    assert wrong.status_code == 400 and wrong.get_json()["error"] == "invalid_grant"
    code = app.code()
    assert app.exchange(code).status_code == 200


def test_malformed_verifier_is_an_invalid_request(rp, signed_in):
    smebj = rp("smebj")
    response = smebj.exchange(smebj.code(), verifier="short")
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_refresh_may_narrow_the_scope_but_not_widen_it(rp, signed_in):
    smebj = rp("smebj")
    tokens = smebj.tokens(scope="openid profile")
    narrower = smebj.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"], scope="openid")
    assert narrower.status_code == 200 and narrower.get_json()["scope"] == "openid"
    assert smebj.verify(narrower.get_json()["access_token"])["scope"] == "openid"
    wider = smebj.token(grant_type="refresh_token", refresh_token=narrower.get_json()["refresh_token"],
                        scope="openid profile phone")
    assert wider.status_code == 400 and wider.get_json()["error"] == "invalid_scope"


def test_refreshed_access_token_keeps_the_login(rp, signed_in):
    smebj = rp("smebj")
    first = smebj.tokens()
    again = smebj.refresh(first["refresh_token"]).get_json()
    before, after = smebj.verify(first["access_token"]), smebj.verify(again["access_token"])
    for claim in ("sub", "acr", "amr", "auth_time", "client_id"):
        assert after[claim] == before[claim]
    assert after["jti"] != before["jti"] and "id_token" not in again


def test_id_token_at_hash_matches_the_access_token(rp, signed_in):
    smebj = rp("smebj")
    tokens = smebj.tokens()
    digest = hashlib.sha256(tokens["access_token"].encode()).digest()
    expected = base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()   # OIDC Core §3.1.3.6
    assert smebj.verify(tokens["id_token"])["at_hash"] == expected


def test_concurrent_exchanges_of_one_code_have_one_winner(rp, signed_in, app):
    smebj = rp("smebj")
    code, verifier = smebj.code(), smebj.verifier
    answers, start = [], threading.Barrier(6)

    def exchange():
        http = app.test_client()
        start.wait()
        answers.append(http.post("/token", auth=("smebj", "smebj-demo-secret"), data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": smebj.redirect_uri,
            "code_verifier": verifier}))

    threads = [threading.Thread(target=exchange) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [a for a in answers if a.status_code == 200]
    assert len(winners) == 1
    assert sorted(a.get_json()["error"] for a in answers if a.status_code != 200) == ["invalid_grant"] * 5
    # The losers were replays: the winner's tokens are revoked with its grant (RFC 6749 §4.1.2).
    assert smebj.userinfo(winners[0].get_json()["access_token"]).status_code == 401


def test_scopes_taken_from_a_client_are_refused_at_the_next_exchange_or_refresh(rp, signed_in, cast, clock):
    """RFC 6749 §3.3: what the client may have is checked when tokens are issued, not only at
    the authorization request."""
    secret = add_client(cast, clock, client_id="shrinking", redirect_uris=("http://127.0.0.1:5002/sh/cb",),
                        grant_types=("authorization_code", "refresh_token"), scopes=("openid", "profile", "phone"),
                        policy={"first_party": True})
    portal = rp("shrinking", secret=secret, redirect_uri="http://127.0.0.1:5002/sh/cb")
    tokens = portal.tokens(scope="openid profile phone")
    code = portal.code(scope="openid profile phone")
    with transaction(cast) as session:
        session.execute(update(OAuthClient).where(OAuthClient.client_id == "shrinking")
                        .values(scopes=["openid", "profile"]))
    clock.advance(CLIENT_CACHE_SECONDS + 1)
    refused = portal.refresh(tokens["refresh_token"])
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_scope"
    exchanged = portal.exchange(code)
    assert exchanged.status_code == 400 and exchanged.get_json()["error"] == "invalid_scope"
    narrower = portal.tokens(scope="openid profile")
    assert portal.token(grant_type="refresh_token", refresh_token=narrower["refresh_token"]).status_code == 200


def test_a_replayed_code_revokes_its_own_grant_after_purged_codes_freed_their_ids(rp, client, cast, clock, app):
    """Purging old codes may let a new code reuse an id (SQLite rowids): the replay must revoke
    the grant of THIS code, never an older grant of someone else."""
    login(client, "zhangsan")
    smebj = rp("smebj")
    zhang = smebj.tokens()
    clock.advance(120)
    with transaction(cast) as session:
        assert purge(session, clock, timedelta(0)).codes == 1
    other = app.test_client()
    login(other, "lisi")
    lisi = rp("smebj")
    lisi.http = other
    code = lisi.code()
    first = lisi.exchange(code).get_json()
    assert lisi.exchange(code).get_json()["error"] == "invalid_grant"      # the replay
    assert lisi.refresh(first["refresh_token"]).get_json()["error"] == "invalid_grant"
    assert smebj.refresh(zhang["refresh_token"]).status_code == 200


def test_token_parameters_in_the_url_are_refused(rp, signed_in):
    response = signed_in.post("/token?grant_type=authorization_code", data={"grant_type": "client_credentials",
                                                                             "code": "x"},
                              auth=("smebj", "smebj-demo-secret"))
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_a_garbled_basic_header_is_an_authentication_failure(signed_in):
    response = signed_in.post("/token", data={"grant_type": "authorization_code", "code": "x"},
                              headers={"Authorization": "Basic \u00e9\u00e9\u00e9\u00e9"})
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


@pytest.mark.parametrize("body, content_type", [
    (b'{"grant_type": "authorization_code", "code": "x"}', "application/json"),     # RFC 6749 §3.2: a form
    (b"grant_type=authorization_code&code=\xff\xfe", "application/x-www-form-urlencoded"),  # not UTF-8
])
def test_a_body_that_is_not_a_utf8_form_has_no_parameters(signed_in, body, content_type):
    response = signed_in.post("/token", data=body, content_type=content_type, auth=("smebj", "smebj-demo-secret"))
    assert response.status_code == 400 and response.get_json()["error"] == "unsupported_grant_type"


def test_form_parameters_are_percent_decoded_and_the_first_of_a_repeated_one_counts(rp, signed_in):
    smebj = rp("smebj")
    code = smebj.code()
    body = ("grant_type=authorization_code&code=" + code.replace("-", "%2D") + "&code=other"
            "&redirect_uri=" + quote(smebj.redirect_uri, safe="")
            + ("&code_verifier=" + smebj.verifier if smebj.verifier else ""))
    response = signed_in.post("/token", data=body, content_type="application/x-www-form-urlencoded; charset=UTF-8",
                              auth=("smebj", "smebj-demo-secret"))
    assert response.status_code == 200 and response.get_json()["token_type"] == "Bearer"


def test_a_multipart_token_request_is_still_understood(rp, signed_in):
    """RFC 6749 asks for form-urlencoded; multipart worked before the hot path parsed the form
    itself, and clients that send it keep working."""
    smebj = rp("smebj")
    form = {"grant_type": "authorization_code", "code": smebj.code(), "redirect_uri": smebj.redirect_uri}
    if smebj.verifier:
        form["code_verifier"] = smebj.verifier
    response = signed_in.post("/token", data=form, content_type="multipart/form-data",
                              auth=("smebj", "smebj-demo-secret"))
    assert response.status_code == 200 and response.get_json()["token_type"] == "Bearer"
