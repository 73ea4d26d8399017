"""RP-initiated logout (exact post_logout_redirect_uri) and back-channel logout tokens sent to a
real HTTP receiver (OpenID Connect Back-Channel Logout 1.0)."""
from __future__ import annotations

import queue
import re
import threading
from urllib.parse import urlencode

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from .conftest import ISSUER, PORTAL, add_client, login

EVENT = "http://schemas.openid.net/event/backchannel-logout"


@pytest.fixture
def receiver():
    """A downstream portal's back-channel logout endpoint: a real HTTP server in a thread."""
    received: queue.Queue = queue.Queue()

    @Request.application
    def app(request):
        received.put((request.path, request.content_type, request.form.get("logout_token")))
        return Response("", status=200)

    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}", received
    server.shutdown()
    thread.join(5)


@pytest.fixture
def portal(rp, cast, db, clock, receiver):
    url, _ = receiver
    secret = add_client(db, clock, client_id="bc-portal", secret="bc-portal-secret-0123456789abcdef",
                        redirect_uris=(f"{PORTAL}/bc-portal/callback",),
                        post_logout_redirect_uris=(f"{PORTAL}/bc-portal/",),
                        backchannel_logout_uri=f"{url}/backchannel-logout", policy={"first_party": True})
    return rp("bc-portal", secret=secret)


def _end_session(client, **params):
    return client.get("/end_session?" + urlencode(params))


def _wait(app):
    app.extensions["tongxing.oidc"].backchannel.wait()


def test_logout_with_a_registered_redirect_sends_logout_tokens(portal, client, app, receiver):
    _, received = receiver
    login(client, "zhangsan")
    tokens = portal.tokens()
    id_claims = portal.verify(tokens["id_token"])
    response = _end_session(client, id_token_hint=tokens["id_token"], client_id="bc-portal",
                            post_logout_redirect_uri=f"{PORTAL}/bc-portal/", state="bye")
    assert response.status_code == 302
    assert response.headers["Location"] == f"{PORTAL}/bc-portal/?state=bye"
    _wait(app)
    path, content_type, logout_token = received.get(timeout=5)
    assert path == "/backchannel-logout" and content_type == "application/x-www-form-urlencoded"
    keys = KeySet.import_key_set(client.get("/jwks.json").get_json())
    decoded = jwt.decode(logout_token, keys, algorithms=["ES256"])
    assert decoded.header["typ"] == "logout+jwt"
    claims = decoded.claims
    jwt.JWTClaimsRegistry(now=int(portal.clock().timestamp()), iss={"essential": True, "value": ISSUER},
                          aud={"essential": True, "value": "bc-portal"}).validate(claims)
    assert claims["sid"] == id_claims["sid"] and claims["sub"] == id_claims["sub"]
    assert claims["events"] == {EVENT: {}} and "nonce" not in claims and claims["jti"]
    # the session's tokens die with it, and the browser is signed out
    assert portal.refresh(tokens["refresh_token"]).get_json()["error"] == "invalid_grant"
    assert portal.userinfo(tokens["access_token"]).status_code == 401
    assert portal.authorize().headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("bad", [f"{PORTAL}/bc-portal/?x=1", f"{PORTAL}/bc-portal", "https://evil.example/"])
def test_logout_with_an_unregistered_redirect_does_not_redirect(portal, client, app, bad):
    login(client, "zhangsan")
    tokens = portal.tokens()
    response = _end_session(client, id_token_hint=tokens["id_token"], post_logout_redirect_uri=bad)
    assert response.status_code == 200 and "Location" not in response.headers
    assert 'data-code="post_logout_redirect_uri_refused"' in response.get_data(as_text=True)
    _wait(app)
    assert portal.authorize().headers["Location"].startswith("/login?next=")


def test_logout_without_id_token_hint_asks_first(portal, client, app):
    login(client, "zhangsan")
    page = _end_session(client, post_logout_redirect_uri=f"{PORTAL}/bc-portal/", client_id="bc-portal")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="logout-confirm"' in html
    assert portal.code()                                   # still signed in
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    forged = client.post("/end_session", data={**fields, "csrf_token": "forged", "confirm": "yes"})
    assert 'id="logout-confirm"' in forged.get_data(as_text=True)   # not confirmed: asks again
    done = client.post("/end_session", data={**fields, "confirm": "yes"})
    assert done.status_code == 200 and "Location" not in done.headers  # no id_token_hint: no redirect
    _wait(app)
    assert portal.authorize().headers["Location"].startswith("/login?next=")


def test_a_forged_id_token_hint_is_refused(portal, client):
    login(client, "zhangsan")
    response = _end_session(client, id_token_hint="e30.e30.sig", post_logout_redirect_uri=f"{PORTAL}/bc-portal/")
    assert response.status_code == 400 and "Location" not in response.headers
    assert portal.code()


def test_a_new_login_replacing_the_session_tells_the_clients(portal, client, app, receiver):
    _, received = receiver
    login(client, "zhangsan")
    sid = portal.verify(portal.tokens()["id_token"])["sid"]
    login(client, "zhangsan")         # the previous broker session ends
    _wait(app)
    _, _, token = received.get(timeout=5)
    keys = KeySet.import_key_set(client.get("/jwks.json").get_json())
    assert jwt.decode(token, keys, algorithms=["ES256"]).claims["sid"] == sid


def test_each_client_is_told_once(portal, client, app, receiver):
    _, received = receiver
    login(client, "zhangsan")
    portal.tokens()
    portal.tokens()
    client.get("/end_session?" + urlencode({"id_token_hint": portal.tokens()["id_token"]}))
    _wait(app)
    received.get(timeout=5)
    assert received.empty()


# --- review fixes --------------------------------------------------------------------------------
def test_a_hint_for_another_user_asks_before_signing_out(portal, client, app):
    """A validly signed ID token of user A cannot sign user B out by a link (logout CSRF)."""
    login(client, "zhangsan")
    hint_of_a = portal.tokens()["id_token"]
    other = app.test_client()                         # another browser, signed in as lisi
    login(other, "lisi")
    page = other.get("/end_session?" + urlencode({"id_token_hint": hint_of_a,
                                                   "post_logout_redirect_uri": f"{PORTAL}/bc-portal/"}))
    assert page.status_code == 200 and 'id="logout-confirm"' in page.get_data(as_text=True)
    assert other.get("/account", headers={"Accept": "application/json"}).status_code == 200   # still signed in


def test_a_hint_of_an_earlier_session_asks_before_signing_out(portal, client):
    login(client, "zhangsan")
    old_hint = portal.tokens()["id_token"]
    login(client, "zhangsan")                         # a new session: another sid
    page = _end_session(client, id_token_hint=old_hint, post_logout_redirect_uri=f"{PORTAL}/bc-portal/")
    assert page.status_code == 200 and 'id="logout-confirm"' in page.get_data(as_text=True)
    assert portal.code()


def test_disabling_an_account_ends_its_tokens_and_tells_the_portals(infra, portal, client, app, receiver):
    """``broker users disable`` goes through the app's session-end path: back-channel logout,
    grants revoked; tokens of a disabled account are refused even before that."""
    from click.testing import CliRunner

    from broker.cli import main
    from tests.conftest import TEST_SECRET

    _, received = receiver
    login(client, "zhangsan")
    tokens = portal.tokens()
    sid = portal.verify(tokens["id_token"])["sid"]
    env = {"DATABASE_URL": infra["database_url"], "REDIS_URL": infra["redis_url"],
           "BROKER_INSTANCE": infra["instance"], "SECRET_KEY": TEST_SECRET, "BROKER_ENV": "test",
           "BROKER_CONFIG": None}
    result = CliRunner().invoke(main, ["users", "disable", "zhangsan"], env=env, catch_exceptions=False)
    assert result.exit_code == 0 and "1 session(s) ended" in result.output
    _, _, logout_token = received.get(timeout=5)
    keys = KeySet.import_key_set(client.get("/jwks.json").get_json())
    assert jwt.decode(logout_token, keys, algorithms=["ES256"]).claims["sid"] == sid
    answer = portal.userinfo(tokens["access_token"])
    assert answer.status_code == 401 and 'error="invalid_token"' in answer.headers["WWW-Authenticate"]
    assert portal.refresh(tokens["refresh_token"]).get_json()["error"] == "invalid_grant"
    # enabled again, the old tokens stay dead
    assert CliRunner().invoke(main, ["users", "enable", "zhangsan"], env=env).exit_code == 0
    assert portal.userinfo(tokens["access_token"]).status_code == 401


def test_tokens_of_a_disabled_account_are_refused(portal, client, db):
    """However the account got disabled (even without its sessions being ended)."""
    from binding.db import transaction
    from binding.models import Account

    login(client, "zhangsan")
    tokens = portal.tokens()
    with transaction(db) as session:
        session.query(Account).filter_by(username="zhangsan").one().status = "disabled"
    assert portal.userinfo(tokens["access_token"]).status_code == 401
    refreshed = portal.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 400 and refreshed.get_json()["error"] == "invalid_grant"
    assert portal.introspect(tokens["access_token"]).get_json() == {"active": False}


def test_sessions_ended_in_a_rolled_back_transaction_tell_nobody(portal, client, app, db, receiver):
    """Back-channel logout leaves after the commit: a rolled-back disable logs nobody out."""
    from binding.db import transaction
    from broker.session import end_account_sessions

    from .conftest import account

    _, received = receiver
    login(client, "zhangsan")
    tokens = portal.tokens()
    zhangsan = account(db, "zhangsan")
    with app.test_request_context(), pytest.raises(RuntimeError):
        with transaction(app.extensions["tongxing"].sessions) as session:
            end_account_sessions(session, zhangsan.id, "disabled")
            raise RuntimeError("the disable failed after ending the sessions")
    _wait(app)
    assert received.empty()
    assert portal.refresh(tokens["refresh_token"]).status_code == 200
    assert portal.code()                                # still signed in
