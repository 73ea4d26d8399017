"""State handling and upstream failures of the broker's federation endpoints (issue 4 "Mix-up
defence"; RFC 6749 §10.12, RFC 9700 §4.4): clear pages with a retry link, never a stack trace."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from .conftest import Browser, identities, path_of, whoami


def test_a_replayed_state_is_refused(cast, browser, client, db):
    params = browser.portal(browser.start("sd-portal"), "sd_zhang")
    assert path_of(browser.callback("sd-portal", params)) == "/federation/linked"
    browser.post("/logout")
    replay = browser.callback("sd-portal", params)
    html = replay.get_data(as_text=True)
    assert replay.status_code == 400 and 'data-code="state_invalid"' in html
    assert 'id="federation-retry" href="/federation/start/sd-portal"' in html
    assert "Traceback" not in html and whoami(client) is None


def test_a_state_started_in_another_browser_is_refused(cast, browser, app, db):
    params = browser.portal(browser.start("sd-portal"), "sd_zhang")
    other = Browser(app.test_client())
    refused = other.callback("sd-portal", params)
    assert refused.status_code == 400 and 'data-code="state_invalid"' in refused.get_data(as_text=True)
    assert identities(db) == [] and whoami(other.client) is None
    # single use: even the right browser cannot use it after it was presented
    assert browser.callback("sd-portal", params).status_code == 400


def test_a_state_for_another_portal_is_refused(cast, browser, db):
    params = browser.portal(browser.start("sd-portal"), "sd_zhang")
    refused = browser.callback("miit", params)
    assert refused.status_code == 400 and 'data-code="state_invalid"' in refused.get_data(as_text=True)
    assert identities(db) == []


def test_a_callback_without_state_is_refused_as_json_too(cast, client):
    response = client.get("/federation/callback/sd-portal?code=abc", headers={"Accept": "application/json"})
    body = response.get_json()
    assert response.status_code == 400 and body["error"] == "state_invalid" and body["retry_url"]
    assert body["message_en"].startswith("This sign-in attempt has expired")


def test_unknown_portal_is_not_found(cast, client):
    assert client.get("/federation/start/nowhere").status_code == 404


def test_upstream_token_endpoint_down_gives_a_retry_page(cast, browser, sandbox, client, db):
    params = browser.portal(browser.start("sd-portal", "/account?after=1"), "sd_zhang")
    sandbox.fault("sd-portal", token_status=503)
    response = browser.callback("sd-portal", params)
    html = response.get_data(as_text=True)
    assert response.status_code == 502 and 'data-code="upstream_unavailable"' in html
    assert "稍后重试" in html and "Traceback" not in html
    assert 'href="/federation/start/sd-portal?next=%2Faccount%3Fafter%3D1"' in html
    assert identities(db) == [] and whoami(client) is None
    # the retry works once the portal is back
    sandbox.app.config["SANDBOX_FAULTS"] = {}
    assert path_of(browser.login("sd-portal", "sd_zhang")) == "/federation/linked"


def test_portal_unreachable_at_start_and_readyz_does_not_care(cast, sandbox, client):
    sandbox.stop()
    response = client.get("/federation/start/sd-portal", headers={"Accept-Language": "en"})
    assert response.status_code == 502
    assert 'id="federation-retry"' in response.get_data(as_text=True)
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["status"] == "ok"


def test_the_upstream_refusal_is_shown_not_echoed(cast, browser, sandbox, client):
    state = parse_qs(urlsplit(browser.start("sd-portal")).query)["state"][0]
    response = browser.callback("sd-portal", {"state": state, "error": "access_denied", "iss": sandbox.base + "/sd-portal",
                                              "error_description": "<script>alert(1)</script>"})
    html = response.get_data(as_text=True)
    assert response.status_code == 403 and 'data-code="upstream_denied"' in html
    assert "<script>alert(1)" not in html and 'id="federation-retry"' in html
    assert whoami(client) is None


def test_federation_start_is_rate_limited_per_ip(cast, client, redis_client):
    from broker.federation.context import START_LIMIT

    for _ in range(START_LIMIT):
        assert client.get("/federation/start/bj-yzt").status_code == 303
    refused = client.get("/federation/start/bj-yzt", headers={"Accept": "application/json"})
    body = refused.get_json()
    assert refused.status_code == 429 and body["error"] == "rate_limited" and body["retry_after"] >= 1
    assert refused.headers["Retry-After"] == str(body["retry_after"])
    # Another network is not affected.
    other = client.get("/federation/start/bj-yzt", environ_overrides={"REMOTE_ADDR": "198.51.100.9"})
    assert other.status_code == 303
