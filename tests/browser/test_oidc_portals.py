"""A person in Chromium signs into the demo downstream portals through the broker (issue 3
"Done when"): the portal is sandbox.downstream, a real OIDC client (Authlib) on its own port."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete
from werkzeug.serving import make_server

from binding.db import transaction
from binding.oauth import OAuthClient
from binding.oauth.demo import seed_demo_clients
from broker.demo.seed import seed_cast
from config import system_clock
from sandbox.downstream import create_portal


@pytest.fixture
def portal(live_broker):
    """The demo downstream portals on a free port, with the DEMO.md cast and clients pointing at it."""
    server = make_server("127.0.0.1", 0, lambda environ, start_response: [], threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    services = live_broker.app.extensions["tongxing"]
    with transaction(services.sessions) as db:
        seed_cast(db, services.settings, system_clock)
        db.execute(delete(OAuthClient))
        seed_demo_clients(db, services.settings, system_clock, portal_url=url)
    server.app = create_portal(live_broker.url, url)
    thread = threading.Thread(target=server.serve_forever, name="demo-portal", daemon=True)
    thread.start()
    yield lambda path="/": url + path
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _sign_in_via_broker(page, portal, client_id, username, password):
    page.goto(portal(f"/{client_id}/"))
    page.click("#signin")
    page.wait_for_url("**/login?**")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_load_state()


def _claim(page, name):
    return page.locator(f'tr[data-claim="{name}"] td').inner_text()


def test_zhangsan_signs_into_smebj_and_sees_the_claims(page, portal):
    _sign_in_via_broker(page, portal, "smebj", "zhangsan", "Zs@demo2026")
    page.wait_for_url(portal("/smebj/"))
    assert page.locator("#status").get_attribute("data-state") == "signed-in"
    assert page.locator("#who").inner_text() == "zhangsan"
    assert _claim(page, "acr") == '"urn:tongxing:cert:2"'
    assert _claim(page, "amr") == '["pwd"]'
    assert _claim(page, "account_kind") == '"personal"'
    assert _claim(page, "phone_number") == '"+8613800138001"'
    assert '"preferred_username": "zhangsan"' in page.locator("#userinfo").inner_text()


def test_the_claims_page_fits_a_phone(phone_page, portal):
    _sign_in_via_broker(phone_page, portal, "gjj-fund", "lisi", "Ls@demo2026")   # the longest claims
    phone_page.wait_for_url(portal("/gjj-fund/"))
    assert "91110108MA01BJ2K6M" in _claim(phone_page, "enterprise")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390


def test_zhangsan_is_refused_by_yt_cloud_with_upgrade_guidance(page, portal):
    _sign_in_via_broker(page, portal, "yt-cloud", "zhangsan", "Zs@demo2026")
    refusal = page.locator('.unmet [data-code="cert_level"]')
    assert refusal.count() == 1
    text = refusal.inner_text()
    assert "不低于 3 级" in text and "2 级" in text and "上游门户" in text
    page.click("#unmet-give-up")
    page.wait_for_url(portal("/yt-cloud/callback") + "?**")
    assert page.locator(".error").get_attribute("data-code") == "unmet_authentication_requirements"


def test_lisi_signs_into_gjj_fund_and_sees_enterprise_a(page, portal):
    _sign_in_via_broker(page, portal, "gjj-fund", "lisi", "Ls@demo2026")
    page.wait_for_url(portal("/gjj-fund/"))
    enterprise = _claim(page, "enterprise")
    assert "北京示例科技有限公司" in enterprise and "91110108MA01BJ2K6M" in enterprise
    assert '"role": "admin"' in enterprise
    assert _claim(page, "account_kind") == '"legal"'


def test_signing_out_at_the_portal_ends_the_broker_session(page, portal, live_broker):
    _sign_in_via_broker(page, portal, "smebj", "zhangsan", "Zs@demo2026")
    page.wait_for_url(portal("/smebj/"))
    page.click("#signout")
    page.wait_for_url(portal("/smebj/"))
    assert page.locator("#status").get_attribute("data-state") == "signed-out"
    page.click("#signin")
    page.wait_for_url("**/login?**")   # the broker asks again: its session ended


def test_giving_up_returns_to_a_native_app_despite_the_csp(page, portal, live_broker):
    """The unmet page's form answers with a redirect to the app's private-use scheme; Chromium
    applies CSP form-action to that redirect, so the page must allow the scheme."""
    import base64
    import hashlib
    from urllib.parse import urlencode

    from binding.oauth import ClientDirectory, ClientPolicy, ClientSpec

    services = live_broker.app.extensions["tongxing"]
    with transaction(services.sessions) as db:
        ClientDirectory(db, system_clock).add(ClientSpec(
            client_id="native-l3", public=True, redirect_uris=("tongxing-app://cb",),
            policy=ClientPolicy(min_cert_level=3)), source="test")
    challenge = base64.urlsafe_b64encode(hashlib.sha256(b"v" * 50).digest()).rstrip(b"=").decode()
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if "form-action" in msg.text else None)
    page.goto(live_broker.url + "/authorize?" + urlencode({
        "response_type": "code", "client_id": "native-l3", "redirect_uri": "tongxing-app://cb",
        "scope": "openid", "state": "s1", "code_challenge": challenge, "code_challenge_method": "S256"}))
    page.wait_for_url("**/login?**")
    page.fill("#username", "zhangsan")
    page.fill("#password", "Zs@demo2026")
    page.click("#login-submit")
    page.wait_for_selector('.unmet [data-code="cert_level"]')
    page.click("#unmet-give-up")
    page.wait_for_timeout(1000)
    assert violations == []
