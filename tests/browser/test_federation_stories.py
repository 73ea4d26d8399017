"""The sd-portal stories of DEMO.md and the miit natural-person refusal, walked in Chromium
through the broker, the sandbox upstream portals and the demo downstream portals (issue 4)."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.federation_support import fed_demo, portal_sign_in  # noqa: F401  (fixture)


def _from_login_page(page, fed_demo, provider_id):
    page.goto(fed_demo.broker("/login"))
    page.click(f"#portal-{provider_id}")


def _linked_kinds(page) -> list[tuple[str, str]]:
    rows = page.locator("#linked-accounts li.linked")
    return [(rows.nth(i).get_attribute("data-provider"), rows.nth(i).get_attribute("data-kind"))
            for i in range(rows.count())]


def test_sd_zhang_links_automatically_to_zhangsan(page, fed_demo):
    _from_login_page(page, fed_demo, "sd-portal")
    portal_sign_in(page, "sd_zhang")
    page.wait_for_url(fed_demo.broker("/federation/linked"))
    notice = page.locator("#auto-linked")
    assert notice.get_attribute("data-username") == "zhangsan" and "自动关联" in notice.inner_text()
    page.click("#linked-continue")
    page.wait_for_url(fed_demo.broker("/account"))
    assert page.locator("#account-username").inner_text() == "zhangsan"
    assert page.locator("#account-cert-level").get_attribute("data-level") == "3"
    assert _linked_kinds(page) == [("sd-portal", "personal")]


def test_sd_low_is_told_to_upgrade_upgrades_and_gets_in(page, fed_demo):
    page.goto(fed_demo.portal("/yt-cloud/"))
    page.click("#signin")
    page.wait_for_url("**/login?**")
    page.click("#portal-sd-portal")
    portal_sign_in(page, "sd_low")
    page.wait_for_url("**/federation/profile")          # 13800138002 matches no local account
    assert page.input_value("#username") == "sd_low"
    page.click("#profile-submit")
    upgrade = page.locator("#upgrade-required")
    upgrade.wait_for()
    assert upgrade.get_attribute("data-needed") == "3"
    assert "3 级" in upgrade.inner_text()
    with page.context.expect_page() as opened:
        page.click("#upgrade-link")
    portal_tab = opened.value
    portal_tab.wait_for_load_state()
    assert portal_tab.locator("#account-level").inner_text() == "2"
    portal_tab.click("#upgrade-level")
    portal_tab.locator("#upgrade-done").wait_for()
    assert portal_tab.locator("#account-level").inner_text() == "3"
    # The portal offers the way back to the broker's retry (its return_to).
    assert portal_tab.locator("#return-to").get_attribute("href").startswith(
        fed_demo.broker("/federation/start/sd-portal?next="))
    portal_tab.close()
    page.click("#upgrade-retry")                         # restarts the portal login, then resumes
    page.wait_for_url(fed_demo.portal("/yt-cloud/"))
    assert page.locator("#status").get_attribute("data-state") == "signed-in"
    assert page.locator("#who").inner_text() == "赵小低"            # the name from the portal
    assert '"preferred_username": "sd_low"' in page.locator("#userinfo").inner_text()
    assert page.locator('tr[data-claim="acr"] td').inner_text() == '"urn:tongxing:cert:3"'
    assert page.locator('tr[data-claim="amr"] td').inner_text() == '["fed"]'


def test_lisi_conflict_settled_by_signing_in_to_the_local_account(page, fed_demo):
    _from_login_page(page, fed_demo, "sd-portal")
    portal_sign_in(page, "lisi")
    page.wait_for_url(fed_demo.broker("/federation/conflict"))
    assert page.locator("#conflict-reason").get_attribute("data-reason") == "username"
    for way in ("#way-upstream", "#way-admin", "#way-prove"):
        assert page.locator(way).is_visible()
    assert page.input_value("#username") == "lisi"
    page.fill("#password", "wrong-password")
    page.click("#prove-submit")
    # The wrong password's answer is a new page: wait for it rather than read the old one.
    expect(page.locator('.error[data-code="invalid_credentials"]')).to_be_visible()
    page.fill("#password", "Ls@demo2026")
    page.click("#prove-submit")
    page.wait_for_url(fed_demo.broker("/account"))
    assert page.locator("#account-username").inner_text() == "lisi"
    assert _linked_kinds(page) == [("sd-portal", "personal")]


def test_sd_new_creates_a_new_local_account(page, fed_demo):
    _from_login_page(page, fed_demo, "sd-portal")
    portal_sign_in(page, "sd_new")
    page.wait_for_url(fed_demo.broker("/federation/profile"))
    assert page.input_value("#username") == "sd_new"
    assert page.input_value("#display_name") == "钱新"
    page.fill("#email", "sd_new@example.com")
    page.click("#profile-submit")
    page.wait_for_url(fed_demo.broker("/account"))
    assert page.locator("#account-username").inner_text() == "sd_new"
    assert page.locator("#account-kind").get_attribute("data-kind") == "personal"
    assert _linked_kinds(page) == [("sd-portal", "personal")]


def test_sd_legal_b_signs_in_as_a_legal_person(page, fed_demo):
    _from_login_page(page, fed_demo, "sd-portal")
    portal_sign_in(page, "sd_legal_b")
    page.wait_for_url(fed_demo.broker("/federation/profile"))
    assert page.locator("#profile-kind").get_attribute("data-kind") == "legal"
    assert "烟台示例新材料有限公司" in page.content()
    page.click("#profile-submit")
    page.wait_for_url(fed_demo.broker("/account"))
    assert page.locator("#account-kind").get_attribute("data-kind") == "enterprise"
    assert _linked_kinds(page) == [("sd-portal", "legal")]


def test_miit_natural_person_is_refused_by_the_legal_person_fund(page, fed_demo):
    page.goto(fed_demo.portal("/gjj-fund/"))
    page.click("#signin")
    page.wait_for_url("**/login?**")
    page.click("#portal-miit")
    portal_sign_in(page, "miit_person")
    page.wait_for_url("**/federation/profile")
    page.click("#profile-submit")
    refusal = page.locator('.unmet [data-code="account_kind"]')
    refusal.wait_for()
    text = refusal.inner_text()
    assert "仅向法人账号开放" in text and "注册新的法人账号" in text
    page.click("#unmet-give-up")
    page.wait_for_url(fed_demo.portal("/gjj-fund/callback") + "?**")
    assert page.locator(".error").get_attribute("data-code") == "access_denied"


def test_upstream_down_shows_a_retry_page_on_a_phone(phone_page, fed_demo):
    fed_demo.sandbox_app.config["SANDBOX_FAULTS"] = {"sd-portal": {"token_status": 503}}
    phone_page.goto(fed_demo.broker("/login"))
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390   # six portal buttons fit
    assert phone_page.locator("#portal-sd-portal").bounding_box()["width"] > 200
    phone_page.click("#portal-sd-portal")
    portal_sign_in(phone_page, "sd_zhang")
    error = phone_page.locator("#federation-error")
    error.wait_for()
    assert error.get_attribute("data-code") == "upstream_unavailable"
    fed_demo.sandbox_app.config["SANDBOX_FAULTS"] = {}
    phone_page.click("#federation-retry")                # still signed in at the portal: straight back
    phone_page.wait_for_url(fed_demo.broker("/federation/linked"))
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390


def test_yzt_c_signs_in_through_bj_yzt_and_reaches_the_linking_step(page, fed_demo):
    # The demo's bj-yzt table (client_secret_post): every bj-yzt login failed without it.
    _from_login_page(page, fed_demo, "bj-yzt")
    portal_sign_in(page, "yzt_c")
    page.wait_for_url(fed_demo.broker("/federation/profile"))
    assert page.locator("#profile-kind").get_attribute("data-kind") == "legal"


def test_first_wechat_login_verifies_a_phone_by_sms(page, fed_demo):
    assert page.goto(fed_demo.broker("/login")) and page.locator("#portal-wechat img").get_attribute("alt") == "微信标志"
    page.click("#portal-wechat")
    portal_sign_in(page, "wx_zhang")
    page.wait_for_url(fed_demo.broker("/federation/profile"))
    assert page.locator("#username-needed").count() == 0
    page.fill("#username", "wx_browser")
    page.fill("#phone", "13900007777")
    page.fill("#captcha", "DEMO")
    page.click("#send-code")
    page.locator('[data-notice="code_sent"]').wait_for()
    messages = page.context.request.get(fed_demo.broker("/dev/outbox.json")).json()["messages"]
    body = next(m["body"] for m in messages if m["recipient"] == "13900007777")
    code = re.search(r"\b(\d{6})\b", body).group(1)
    page.fill("#code", code)
    page.click("#profile-submit")
    page.wait_for_url(fed_demo.broker("/account"))
    assert page.locator("#account-username").inner_text() == "wx_browser"
