"""Authorization request validation: never redirect to an unverified place, iss everywhere
(RFC 9207), no implicit flow, PKCE S256 only, prompt and max_age."""
from __future__ import annotations

from urllib.parse import urlencode

import pytest

from .conftest import ISSUER, PORTAL, login, query_of, s256

CALLBACK = f"{PORTAL}/smebj/callback"


def _get(client, **params):
    base = {"response_type": "code", "client_id": "smebj", "redirect_uri": CALLBACK, "scope": "openid",
            "state": "xyz"}
    base.update(params)
    return client.get("/authorize?" + urlencode({k: v for k, v in base.items() if v is not None}))


def test_unknown_client_gets_an_error_page_not_a_redirect(client, cast):
    login(client, "zhangsan")
    response = _get(client, client_id="no-such-portal")
    assert response.status_code == 400 and "Location" not in response.headers
    assert 'data-code="invalid_client"' in response.get_data(as_text=True)


@pytest.mark.parametrize("redirect_uri", [
    CALLBACK + "?extra=1",              # query added
    CALLBACK + "#frag",                 # fragment
    CALLBACK + "/",                     # trailing slash
    CALLBACK.replace("5002", "5003"),   # another port (only loopback native apps may vary it)
    CALLBACK.upper(),
    "https://evil.example/smebj/callback",
    None,                               # missing: never guessed
])
def test_redirect_uri_must_match_exactly(client, cast, redirect_uri):
    login(client, "zhangsan")
    response = _get(client, redirect_uri=redirect_uri)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert 'data-code="invalid_request"' in response.get_data(as_text=True)


def test_loopback_redirect_may_vary_its_port_for_the_native_app(client, cast):
    login(client, "zhangsan")
    verifier = "v" * 50
    ok = _get(client, client_id="mobile-app", redirect_uri="http://127.0.0.1:53117/callback",
              code_challenge=s256(verifier), code_challenge_method="S256")
    assert ok.status_code == 302 and ok.headers["Location"].startswith("http://127.0.0.1:53117/callback?code=")
    bad_path = _get(client, client_id="mobile-app", redirect_uri="http://127.0.0.1:53117/other",
                    code_challenge=s256(verifier), code_challenge_method="S256")
    assert bad_path.status_code == 400 and "Location" not in bad_path.headers
    custom = _get(client, client_id="mobile-app", redirect_uri="tongxing-app://callback",
                  code_challenge=s256(verifier), code_challenge_method="S256")
    assert custom.headers["Location"].startswith("tongxing-app://callback?code=")


@pytest.mark.parametrize("response_type", ["token", "id_token", "code id_token", "code token"])
def test_no_implicit_or_hybrid_flow(client, cast, response_type):
    login(client, "zhangsan")
    response = _get(client, response_type=response_type)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "#" not in location and "access_token" not in location
    q = query_of(location)
    assert q["error"] == "unsupported_response_type" and q["iss"] == ISSUER and q["state"] == "xyz"


def test_password_grant_is_refused(client, cast):
    response = client.post("/token", data={"grant_type": "password", "username": "zhangsan",
                                           "password": "Zs@demo2026"}, auth=("smebj", "smebj-demo-secret"))
    assert response.status_code == 400 and response.get_json()["error"] == "unsupported_grant_type"


def test_error_redirects_carry_iss_and_state(client, cast):
    login(client, "zhangsan")
    response = _get(client, scope="openid not-a-scope")
    q = query_of(response.headers["Location"])
    assert q["error"] == "invalid_scope" and q["iss"] == ISSUER and q["state"] == "xyz"


def test_prompt_none_when_not_signed_in_is_login_required(client, cast):
    response = _get(client, prompt="none")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(CALLBACK + "?")
    q = query_of(response.headers["Location"])
    assert q == {"error": "login_required", "state": "xyz", "iss": ISSUER}


def test_prompt_none_when_signed_in_returns_a_code_silently(client, cast):
    login(client, "zhangsan")
    q = query_of(_get(client, prompt="none").headers["Location"])
    assert q["code"] and q["iss"] == ISSUER


def test_max_age_exceeded_asks_for_a_fresh_login(rp, client, clock):
    login(client, "zhangsan")
    smebj = rp("smebj")
    clock.advance(2)
    response = smebj.authorize(max_age="1")
    assert response.headers["Location"].startswith("/login?next=")
    # with prompt=none there is no page to show: login_required
    q = query_of(smebj.authorize(max_age="1", prompt="none").headers["Location"])
    assert q["error"] == "login_required" and q["iss"] == ISSUER
    login(client, "zhangsan")                     # fresh login: auth_time is now
    tokens = smebj.tokens(max_age="1")
    claims = smebj.verify(tokens["id_token"])
    assert claims["auth_time"] == int(clock().timestamp())


def test_max_age_within_limit_keeps_the_session(rp, client, clock):
    login(client, "zhangsan")
    started = int(clock().timestamp())
    clock.advance(30)
    smebj = rp("smebj")
    claims = smebj.verify(smebj.tokens(max_age="60")["id_token"])
    assert claims["auth_time"] == started


def test_prompt_login_forces_reauthentication(rp, client, clock):
    login(client, "zhangsan")
    smebj = rp("smebj")
    clock.advance(10)
    response = smebj.authorize(prompt="login")
    location = response.headers["Location"]
    assert location.startswith("/login?next=")
    assert "prompt" not in location
    # coming back without logging in again does not count
    nxt = location.split("next=", 1)[1]
    from urllib.parse import unquote
    again = client.get(unquote(nxt))
    assert again.headers["Location"].startswith("/login?next=")
    login(client, "zhangsan")
    back = client.get(unquote(nxt))
    code = query_of(back.headers["Location"])["code"]
    claims = smebj.verify(smebj.exchange(code).get_json()["id_token"])
    assert claims["auth_time"] == int(clock().timestamp())


def test_no_cors_on_the_authorization_endpoint_and_security_headers(client, cast):
    response = client.get("/authorize?client_id=smebj", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- PKCE (RFC 7636, RFC 9700 §2.1.1) ---------------------------------------------------------
def test_public_client_without_pkce_is_refused_at_once(rp, client):
    login(client, "zhangsan")
    app = rp("mobile-app", redirect_uri="tongxing-app://callback")
    q = query_of(app.authorize(pkce=False).headers["Location"])
    assert q["error"] == "invalid_request" and q["iss"] == ISSUER


def test_plain_pkce_is_refused(rp, client):
    login(client, "zhangsan")
    app = rp("mobile-app", redirect_uri="tongxing-app://callback")
    verifier = "p" * 50
    for extra in ({"code_challenge_method": "plain"}, {}):   # a missing method means plain
        q = query_of(app.authorize(code_challenge=verifier, **extra).headers["Location"])
        assert q["error"] == "invalid_request" and q["iss"] == ISSUER


def test_wrong_or_missing_verifier_is_refused(rp, client):
    login(client, "zhangsan")
    app = rp("mobile-app", redirect_uri="tongxing-app://callback")
    code = app.code()
    wrong = app.exchange(code, verifier="w" * 50)
    assert wrong.status_code == 400 and wrong.get_json()["error"] == "invalid_grant"
    code = app.code()
    missing = app.exchange(code, verifier=None)
    assert missing.status_code == 400 and missing.get_json()["error"] == "invalid_request"


def test_public_client_with_the_right_verifier_gets_tokens(rp, client):
    login(client, "zhangsan")
    app = rp("mobile-app", redirect_uri="tongxing-app://callback")
    response = app.exchange(app.code())
    assert response.status_code == 200 and response.get_json()["id_token"]


def test_verifier_without_a_challenge_is_refused(rp, client):
    login(client, "zhangsan")
    smebj = rp("smebj")
    code = smebj.code(pkce=False)
    response = smebj.exchange(code, verifier="v" * 50)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_confidential_client_with_pkce_must_send_the_verifier(rp, client):
    login(client, "zhangsan")
    smebj = rp("smebj")
    code = smebj.code()
    response = smebj.exchange(code, verifier=None)
    assert response.status_code == 400


# --- review fixes --------------------------------------------------------------------------------
def test_max_age_zero_asks_for_one_fresh_login_and_does_not_loop(rp, client, clock):
    from urllib.parse import unquote

    login(client, "zhangsan")
    smebj = rp("smebj")
    first = smebj.authorize(max_age="0")
    assert first.headers["Location"].startswith("/login?next=")     # a fresh login, even at once
    login(client, "zhangsan")
    clock.advance(0.4)                                              # the browser's way back takes time
    back = client.get(unquote(first.headers["Location"].split("next=", 1)[1]))
    code = query_of(back.headers["Location"])["code"]
    claims = smebj.verify(smebj.exchange(code).get_json()["id_token"])
    assert claims["auth_time"] == int(clock().timestamp())


def test_the_authorization_request_may_be_posted(rp, client):
    """OIDC Core §3.1.2.1: the OP must support POST; the RP's form carries no CSRF token of ours."""
    login(client, "zhangsan")
    smebj = rp("smebj")
    params = smebj.params()
    verifier = "v" * 50
    params.update(code_challenge=s256(verifier), code_challenge_method="S256")
    response = client.post("/authorize", data=params)
    assert response.status_code == 303
    q = query_of(response.headers["Location"])
    assert q["iss"] == ISSUER and q["state"] == params["state"] and q["code"]
    assert smebj.exchange(q["code"], verifier=verifier).status_code == 200


def test_a_posted_consent_decision_still_needs_the_csrf_token(rp, client, db, clock):
    from .conftest import add_client

    secret = add_client(db, clock, client_id="third", secret="third-secret-0123456789abcdef0123",
                        redirect_uris=(f"{PORTAL}/third/callback",), scopes=("openid", "profile"))
    third = rp("third", secret=secret)
    login(client, "zhangsan")
    params = third.params(scope="openid profile")
    params.update(code_challenge=s256("v" * 50), code_challenge_method="S256")
    refused = client.post("/authorize", data={**params, "decision": "allow"})
    assert refused.status_code == 400 and "Location" not in refused.headers
    assert third.authorize(scope="openid profile").status_code == 200          # consent not recorded


def test_pages_whose_form_returns_to_a_native_app_allow_its_scheme(client, cast, db, clock):
    """Chromium applies CSP form-action to the redirect after a form: the unmet-requirements and
    logout pages of a client with a private-use scheme must allow that scheme."""
    from .conftest import RelyingParty, add_client

    add_client(db, clock, client_id="native-l3", public=True, redirect_uris=("tongxing-app://cb",),
               post_logout_redirect_uris=("tongxing-app://bye",), policy={"min_cert_level": 3})
    login(client, "zhangsan")
    app_rp = RelyingParty(client, "native-l3", redirect_uri="tongxing-app://cb")
    unmet = app_rp.authorize()
    assert unmet.status_code == 403
    assert "form-action 'self' http: https: tongxing-app:;" in unmet.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in unmet.headers["Content-Security-Policy"]
    page = client.get("/end_session?" + urlencode({"client_id": "native-l3",
                                                    "post_logout_redirect_uri": "tongxing-app://bye"}))
    assert 'id="logout-confirm"' in page.get_data(as_text=True)
    assert "tongxing-app:" in page.headers["Content-Security-Policy"]
    other = _get(client)   # an ordinary page keeps the app's policy
    assert "tongxing-app:" not in other.headers["Content-Security-Policy"]


def test_unmet_requirements_answer_programs_in_json(rp, client):
    login(client, "zhangsan")
    response = client.get("/authorize?" + urlencode(rp("yt-cloud").params()), headers={"Accept": "application/json"})
    body = response.get_json()
    assert response.status_code == 403 and body["error"] == "unmet_requirements"
    assert body["shortfalls"] == [{"code": "cert_level", "needed": 3, "have": 2}]
    assert body["message_zh"] and body["message_en"]
