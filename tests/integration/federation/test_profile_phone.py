"""Profile completion asks for a phone + SMS code when the portal gave no verified, free phone
(WeChat/QQ/Weibo, unverified phones): every local account has a verified phone (DOMAIN rule 1)
and a second way in; the image captcha comes before the code (rule 3)."""
from __future__ import annotations

import pytest

from sandbox.portals.demo_config import provider_tables
from tests.conftest import make_settings
from tests.support.factories import CHEAP_PASSWORD, outbox_code

from .conftest import account, identities, path_of, whoami

CAPTCHA = "TEST"


@pytest.fixture
def settings(infra, sandbox):
    # Demo mode only for its scripted captcha answer (DEMO.md "Codes in demo mode").
    return make_settings(infra, password=CHEAP_PASSWORD, providers=provider_tables(sandbox.base),
                         demo=True, demo_captcha=CAPTCHA)


def _send_code(browser, phone, captcha=CAPTCHA):
    return browser.post("/federation/profile", {"action": "send_code", "phone": phone, "captcha": captcha,
                                                "username": "wx_new"})


def test_first_wechat_login_asks_for_a_phone_and_creates_the_account_with_it(cast, browser, client, db):
    assert path_of(browser.login("wechat", "wx_zhang")) == "/federation/profile"
    page = client.get("/federation/profile").get_data(as_text=True)
    assert 'id="profile-phone"' in page and 'name="captcha"' in page and 'value="send_code"' in page
    # The hint about an unusable login name is for portals that sent one; WeChat sends none.
    assert 'id="username-needed"' not in page and "微信账号登录" in page and "登录登录" not in page
    # Without a phone nothing is created, and the page says which field is missing.
    missing = browser.post("/federation/profile", {"username": "wx_new"})
    assert missing.status_code == 400 and 'id="phone-error"' in missing.get_data(as_text=True)
    assert account(db, "wx_new") is None
    # A wrong captcha sends nothing (rule 3).
    refused = _send_code(browser, "13900001234", captcha="WRONG")
    assert refused.status_code == 400 and 'data-code="invalid_captcha"' in refused.get_data(as_text=True)
    sent = _send_code(browser, "139-0000-1234")
    assert path_of(sent) == "/federation/profile"
    again = client.get("/federation/profile").get_data(as_text=True)
    assert 'data-notice="code_sent"' in again and 'value="139-0000-1234"' in again
    with db() as s:
        code = outbox_code(s, "13900001234")
    wrong = browser.post("/federation/profile", {"username": "wx_new", "phone": "13900001234", "code": "000000"
                                                 if code != "000000" else "111111"})
    assert wrong.status_code == 400 and account(db, "wx_new") is None
    done = browser.post("/federation/profile", {"username": "wx_new", "phone": "13900001234", "code": code})
    assert path_of(done) == "/account"
    created = account(db, "wx_new")
    assert (created.phone, created.phone_verified, created.password_hash) == ("13900001234", True, None)
    assert whoami(client)["username"] == "wx_new"
    assert [r.provider_id for r in identities(db, "wx_new")] == ["wechat"]


def test_a_phone_of_another_account_is_refused_with_the_way_out(cast, browser, client, db):
    browser.login("wechat", "wx_zhang")
    refused = _send_code(browser, "13800138001")          # zhangsan's phone
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409 and 'data-code="phone_registered"' in html
    assert "请用该账号登录，然后在账号页关联微信账号" in html
    with db() as s:
        from sqlalchemy import select

        from binding.models import OutboxMessage
        assert s.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "13800138001")).first() is None
    # Submitting it directly (a code sent earlier, say) is refused too.
    direct = browser.post("/federation/profile", {"username": "wx_new", "phone": "13800138001", "code": "123456"})
    assert direct.status_code == 409 and account(db, "wx_new") is None and identities(db) == []


def test_a_verified_free_phone_from_the_portal_needs_no_sms(cast, browser, client, db):
    assert path_of(browser.login("sd-portal", "sd_new")) == "/federation/profile"
    assert 'id="profile-phone"' not in client.get("/federation/profile").get_data(as_text=True)
