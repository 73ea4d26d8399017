"""Login (DOMAIN rule 2): by username, phone, email or USCC + password, by phone + SMS code;
sessions: fresh id at login, server-side revocation, cookie flags, safe `next`."""
import re
from urllib.parse import quote

import pytest
from sqlalchemy import select

from binding.accounts import build_account_service
from binding.models import Account, Enterprise, EnterpriseBinding

USCC = "91110108MA01BJ2K6M"


def _edit_account(app, username, **changes):
    with app.extensions["tongxing"].sessions.begin() as db:
        account = db.scalar(select(Account).where(Account.username == username))
        for key, value in changes.items():
            setattr(account, key, value)
        return account.id


def _bind_enterprise(app, clock, username):
    with app.extensions["tongxing"].sessions.begin() as db:
        account = db.scalar(select(Account).where(Account.username == username))
        enterprise = Enterprise(uscc=USCC, name="北京示例科技有限公司", region="110108", categories=[],
                                created_at=clock())
        db.add(enterprise)
        db.flush()
        db.add(EnterpriseBinding(enterprise_id=enterprise.id, account_id=account.id, source="test",
                                 bound_at=clock()))


def test_login_page_has_the_agreed_fields(user):
    text = user.client.get("/login").get_data(as_text=True)
    assert 'name="username"' in text and 'autocomplete="username"' in text
    assert 'autocomplete="current-password"' in text and 'id="login-submit"' in text
    assert 'name="csrf_token"' in text
    assert 'href="/login?tab=sms"' in text
    sms = user.client.get("/login?tab=sms").get_data(as_text=True)
    assert 'id="send-code"' in sms and 'name="captcha"' in sms and 'name="code"' in sms


@pytest.mark.parametrize("identifier", ["erin", "ERIN", "13900000011", "+86 139 0000 0011", "erin@example.com"])
def test_login_by_each_identifier(app, user, account_named, identifier):
    account_named("erin", "13900000011")
    _edit_account(app, "erin", email="erin@example.com", email_verified=True)
    response = user.login(identifier)
    assert response.status_code == 200, response.json
    assert response.json == {"status": "ok", "redirect": "/account", "account": {
        "username": "erin", "kind": "personal", "cert_level": 2, "phone": "139****0011",
        "email": "e***@example.com", "email_verified": True,
        "public_id": response.json["account"]["public_id"]}}
    assert user.signed_in_as() == "erin"


def test_login_by_uscc_for_the_enterprise_account_only(app, clock, user, account_named):
    account_named("legal", "13900000012", kind="enterprise")
    _bind_enterprise(app, clock, "legal")
    assert user.login(USCC).json["account"]["username"] == "legal"
    assert user.login(USCC.lower()).status_code == 200
    # A natural-person account may not use the USCC (rule 2, `004`).
    _edit_account(app, "legal", kind="personal")
    refused = user.login(USCC)
    assert refused.status_code == 401 and refused.json["error"] == "invalid_credentials"


def test_login_page_redirects_with_303_to_a_safe_next(user, account_named):
    account_named("frank", "13900000013")
    response = user.post_form("/login?next=/account%3Fx%3D1", {"username": "frank", "password": user.PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/account?x=1"


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example", "https://evil.example/",
                                    "javascript:alert(1)", "/\r\nSet-Cookie: x=1", "evil", "/\t/evil.example"])
def test_next_refuses_open_redirects(user, browser, account_named, target):
    account_named("gina", "13900000014")
    page = user.post_form("/login", {"username": "gina", "password": user.PASSWORD, "next": target})
    assert page.status_code == 303 and page.headers["Location"] == "/account"
    other = browser()
    response = other.post_json("/login?next=" + quote(target, safe=""),
                               {"username": "gina", "password": other.PASSWORD})
    assert response.json["redirect"] == "/account"


def test_wrong_password_page_keeps_the_name_not_the_password(user, account_named):
    account_named("hana", "13900000015")
    response = user.post_form("/login", {"username": "hana", "password": "Wrong#Pass1"})
    text = response.get_data(as_text=True)
    assert response.status_code == 401
    assert re.search(r'class="error"[^>]*data-code="invalid_credentials"', text)
    assert "还可尝试 4 次" in text
    assert 'value="hana"' in text and "Wrong#Pass1" not in text


def test_sms_code_login(user, account_named):
    account_named("ivan", "13900000016")
    user.clock.advance(61)  # one code a minute per phone; registration just sent one
    page = user.post_form("/login?tab=sms", {"action": "send_code", "phone": "13900000016", "captcha": "TEST"},
                          follow=True)
    text = page.get_data(as_text=True)
    assert "验证码已发送" in text and 'value="13900000016"' in text and 'id="tab-sms" href="/login?tab=sms" class="active"' in text
    response = user.post_form("/login?tab=sms", {"tab": "sms", "phone": "13900000016",
                                                 "code": user.latest_code("13900000016")})
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert user.signed_in_as() == "ivan"


def test_sms_code_login_wrong_code(user, account_named):
    account_named("jack", "13900000017")
    user.send_code("/login", "13900000017")
    response = user.post_json("/login?tab=sms", {"phone": "13900000017", "code": "000000"
                              if user.latest_code("13900000017") != "000000" else "111111"})
    assert response.status_code == 400 and response.json["error"] == "invalid_code"
    assert response.json["field"] == "code"
    assert user.signed_in_as() is None


def test_new_session_id_at_login(app, user, account_named):
    account_named("kate", "13900000018")
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    pre_login_csrf = user.csrf()
    before = user.client.get_cookie(cookie_name).value
    assert user.login("kate").status_code == 200
    first = user.client.get_cookie(cookie_name).value
    assert first != before
    # The pre-login CSRF token died with the pre-login session.
    stale = user.client.post("/logout", headers={**user.JSON, "X-CSRF-Token": pre_login_csrf})
    assert stale.status_code == 400 and stale.json["error"] == "csrf_failed"
    # Signing in again in the same browser replaces the session: the first token is dead.
    assert user.login("kate").status_code == 200
    assert user.client.get_cookie(cookie_name).value != first
    replay = app.test_client()
    replay.set_cookie(cookie_name, first)
    assert replay.get("/account", headers=user.JSON).status_code == 401


def test_logout_revokes_the_session_server_side(app, user, account_named):
    account_named("liam", "13900000019")
    user.login("liam")
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    stolen = user.client.get_cookie(cookie_name).value
    page = user.client.get("/account").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert 'id="logout"' in page
    response = user.client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert user.signed_in_as() is None
    replay = app.test_client()
    replay.set_cookie(cookie_name, stolen)
    response = replay.get("/account")
    assert response.status_code == 303 and response.headers["Location"] == "/login?next=/account"


def test_session_cookie_is_httponly_and_samesite_lax(app, user, account_named):
    account_named("mia", "13900000020")
    user.csrf()
    response = user.post_json("/login", {"username": "mia", "password": user.PASSWORD})
    cookie = next(v for v in response.headers.getlist("Set-Cookie")
                  if v.startswith(app.config["SESSION_COOKIE_NAME"] + "="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # The issuer is loopback http:// in tests, so Secure is off here (on outside loopback).
    assert "Secure" not in cookie


def test_disabled_account_cannot_log_in_and_its_sessions_end(app, clock, user, browser, account_named):
    account_named("noah", "13900000021")
    user.login("noah")
    assert user.signed_in_as() == "noah"
    services = app.extensions["tongxing"]
    with services.sessions.begin() as db:
        build_account_service(db, settings=services.settings, redis=services.redis, clock=clock).set_disabled(
            "noah", True, actor="test")
    assert user.signed_in_as() is None
    other = browser()
    response = other.login("noah")
    assert response.status_code == 403 and response.json["error"] == "account_disabled"
    assert other.login_sms("13900000021").json["error"] == "account_disabled"
    page = other.post_form("/login", {"username": "noah", "password": other.PASSWORD})
    assert re.search(r'data-code="account_disabled"', page.get_data(as_text=True))


def test_account_page_needs_login_and_root_redirects(user, account_named):
    assert user.client.get("/").headers["Location"] == "/login"
    response = user.client.get("/account")
    assert response.status_code == 303 and response.headers["Location"] == "/login?next=/account"
    account_named("olga", "13900000022", kind="enterprise")
    user.login("olga")
    assert user.client.get("/").headers["Location"] == "/account"
    text = user.client.get("/account?lang=en").get_data(as_text=True)
    assert "olga" in text and "139****0022" in text and "Enterprise user" in text and "Level 2" in text
    assert "13900000022" not in text


def _give_email(app, username: str, email: str) -> None:
    from sqlalchemy import update

    from binding.models import Account

    with app.extensions["tongxing"].sessions.begin() as db:
        db.execute(update(Account).where(Account.username == username).values(email=email))


def test_email_code_login(app, user, account_named):
    account_named("lena", "13900000019")
    _give_email(app, "lena", "lena@example.cn")
    page = user.post_form("/login?tab=email", {"tab": "email", "action": "send_code",
                                                "email": "Lena@Example.cn", "captcha": "TEST"}, follow=True)
    text = page.get_data(as_text=True)
    assert "验证码已发送" in text and 'id="tab-email" href="/login?tab=email" class="active"' in text
    code = user.latest_code("lena@example.cn")
    assert code is not None
    response = user.post_form("/login?tab=email", {"tab": "email", "email": "lena@example.cn", "code": code})
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert user.signed_in_as() == "lena"


def test_email_code_needs_the_captcha_and_the_right_code(app, user, account_named):
    account_named("mona", "13900000020")
    _give_email(app, "mona", "mona@example.cn")
    refused = user.post_json("/login", {"tab": "email", "action": "send_code", "email": "mona@example.cn",
                                        "captcha": "WRONG"})
    assert refused.status_code == 400 and refused.json["error"] == "invalid_captcha"
    assert user.latest_code("mona@example.cn") is None
    sent = user.post_json("/login", {"tab": "email", "action": "send_code", "email": "mona@example.cn",
                                     "captcha": "TEST"})
    assert sent.json == {"status": "code_sent"}
    wrong = "000000" if user.latest_code("mona@example.cn") != "000000" else "111111"
    response = user.post_json("/login", {"tab": "email", "email": "mona@example.cn", "code": wrong})
    assert response.status_code == 400 and response.json["error"] == "invalid_code"
    assert user.signed_in_as() is None
