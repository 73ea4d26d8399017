"""The account page: change the password (other sessions end), add or change the email with a
code sent to it, and codes leaving through a real SMTP server when so configured."""
from __future__ import annotations

import re

from sqlalchemy import select

from binding.models import AuditEvent, LoginSession
from broker.session import on_session_end
from tests.support.gateways import SmtpSink

NEW_PASSWORD = "Fresh#Pass2027"


def _post_account(user, path: str, body: dict):
    return user.post_json(path, body, token=user.account_json()["csrf_token"])


def _email_code(app, address: str) -> str:
    from binding.models import OutboxMessage

    with app.extensions["tongxing"].sessions() as db:
        body = db.scalars(select(OutboxMessage.body).where(OutboxMessage.recipient == address)
                          .order_by(OutboxMessage.id.desc())).first()
    return re.search(r"\b(\d{6})\b", body).group(1)


def _live_sids(app) -> set[str]:
    with app.extensions["tongxing"].sessions() as db:
        return set(db.scalars(select(LoginSession.sid).where(LoginSession.revoked_at.is_(None))))


# ---- password change (issue 2 "Sessions": server-side revocation on password change) ----------

def test_changing_the_password_signs_out_every_other_session(app, user, browser, account_named):
    ended = []
    on_session_end(app, ended.extend)   # the hook back-channel logout listens on
    account_named("pia", "13900000031")
    phone = browser()
    assert user.login("pia").status_code == 200 and phone.login("pia").status_code == 200
    sids_before = _live_sids(app)

    answer = _post_account(user, "/account/password", {"old_password": user.PASSWORD, "new_password": NEW_PASSWORD})

    assert answer.status_code == 200 and answer.json == {"status": "ok"}
    assert user.signed_in_as() == "pia"                     # this session goes on
    assert phone.client.get("/account", headers=user.JSON).status_code == 401   # the other one is over
    [kept] = _live_sids(app)
    # Every other session (the phone's, the registration's) was announced as ended, not this one.
    assert set(ended) == sids_before - {kept} and len(ended) == len(sids_before) - 1 >= 1
    assert browser().login("pia").status_code == 401        # the old password is gone
    assert browser().login("pia", NEW_PASSWORD).status_code == 200


def test_password_change_refusals_name_the_field(app, user, account_named):
    account_named("quinn", "13900000032")
    user.login("quinn")
    wrong = _post_account(user, "/account/password", {"old_password": "Not#The1Pass", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 401
    assert (wrong.json["error"], wrong.json["field"], wrong.json["attempts_left"]) == (
        "invalid_credentials", "old_password", 4)
    weak = _post_account(user, "/account/password", {"old_password": user.PASSWORD, "new_password": "short"})
    assert (weak.status_code, weak.json["field"]) == (400, "new_password")
    assert "8" in weak.json["message_en"] and weak.json["message_zh"]
    assert browser_login_ok(user, "quinn", user.PASSWORD)


def browser_login_ok(user, name: str, password: str) -> bool:
    from tests.integration.auth.conftest import Actions

    return Actions(user.app, user.app.test_client(), user.clock).login(name, password).status_code == 200


def test_password_change_form_on_the_account_page(app, user, account_named):
    account_named("rhea", "13900000033")
    user.login("rhea")
    page = user.client.get("/account").get_data(as_text=True)
    assert 'action="/account/password"' in page and 'autocomplete="current-password"' in page
    assert 'name="new_password"' in page and 'autocomplete="new-password"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = user.client.post("/account/password", data={"csrf_token": token, "old_password": user.PASSWORD,
                                                         "new_password": NEW_PASSWORD})
    assert answer.status_code == 303 and answer.headers["Location"] == "/account"
    shown = user.client.get("/account?lang=en").get_data(as_text=True)
    assert "Password changed; every other session has been signed out." in shown
    bad = user.client.post("/account/password", data={"csrf_token": token, "old_password": "x",
                                                      "new_password": NEW_PASSWORD})
    assert bad.status_code == 401 and 'data-code="invalid_credentials"' in bad.get_data(as_text=True)


def test_password_change_needs_a_signed_in_user(user):
    token = user.csrf()
    answer = user.client.post("/account/password", json={"old_password": "a", "new_password": NEW_PASSWORD},
                              headers={**user.JSON, "X-CSRF-Token": token})
    assert answer.status_code == 401


# ---- email address (rule 2: email + code login needs a verified email) -----------------------

def test_add_an_email_with_a_code_then_sign_in_with_it(app, user, browser, account_named):
    account_named("sven", "13900000034")
    user.login("sven")
    assert user.account_json()["account"]["email"] is None
    sent = _post_account(user, "/account/email", {"action": "send_code", "email": "Sven@Example.com"})
    assert sent.status_code == 200 and sent.json == {"status": "code_sent"}
    wrong = _post_account(user, "/account/email", {"email": "sven@example.com", "code": "000000"})
    assert wrong.json["error"] == "invalid_code" and user.account_json()["account"]["email"] is None
    code = _email_code(app, "sven@example.com")
    done = _post_account(user, "/account/email", {"email": "sven@example.com", "code": code})
    assert done.status_code == 200
    shown = user.account_json()["account"]
    assert (shown["email"], shown["email_verified"]) == ("s***@example.com", True)
    with app.extensions["tongxing"].sessions() as db:
        assert db.scalars(select(AuditEvent.event).where(AuditEvent.event == "email.added")).all() == ["email.added"]

    other = browser()
    other.clock.advance(61)
    assert other.post_json("/login?tab=email", {"tab": "email", "action": "send_code", "email": "sven@example.com",
                                                "captcha": other.CAPTCHA}).status_code == 200
    login = other.post_json("/login?tab=email", {"tab": "email", "email": "sven@example.com",
                                                 "code": _email_code(app, "sven@example.com")})
    assert login.status_code == 200 and other.signed_in_as() == "sven"


def test_an_email_of_another_account_is_refused_clearly(app, user, account_named):
    account_named("tess", "13900000035")
    account_named("ugo", "13900000036")
    user.login("tess")
    code = (_post_account(user, "/account/email", {"action": "send_code", "email": "shared@example.com"}),
            _email_code(app, "shared@example.com"))[1]
    assert _post_account(user, "/account/email", {"email": "shared@example.com", "code": code}).status_code == 200
    user.logout()
    user.login("ugo")
    taken = _post_account(user, "/account/email", {"action": "send_code", "email": "SHARED@example.com"})
    assert (taken.status_code, taken.json["error"], taken.json["field"]) == (409, "conflict", "email")
    assert "another account" in taken.json["message_en"] and "其他账号" in taken.json["message_zh"]


def test_email_form_on_the_account_page(app, user, account_named):
    account_named("vera", "13900000037")
    user.login("vera")
    page = user.client.get("/account").get_data(as_text=True)
    assert 'action="/account/email"' in page and 'id="send-email-code"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    sent = user.client.post("/account/email", data={"csrf_token": token, "action": "send_code",
                                                    "email": "vera@example.com"})
    assert sent.status_code == 303
    again = user.client.get("/account").get_data(as_text=True)
    assert 'data-notice="code_sent"' in again and 'value="vera@example.com"' in again
    done = user.client.post("/account/email", data={"csrf_token": token, "action": "confirm", "email": "vera@example.com",
                                                    "code": _email_code(app, "vera@example.com")})
    assert done.status_code == 303
    assert 'id="account-email">v***@example.com<' in user.client.get("/account").get_data(as_text=True)


# ---- codes through a real SMTP server ---------------------------------------------------------

def test_email_codes_go_through_the_configured_smtp_server_not_the_outbox(make_app, account_named):
    with SmtpSink() as sink:
        site = make_app(demo=True, demo_captcha="TEST", email={
            "gateway": "smtp", "smtp_host": "127.0.0.1", "smtp_port": sink.port, "smtp_security": "none",
            "from_address": "sso@tongxing.example"})
        assert site.register("wren", "13900000038").status_code == 201
        site.login("wren")
        assert _post_account(site, "/account/email", {"action": "send_code", "email": "wren@example.com"}).json == {
            "status": "code_sent"}
        [mail] = sink.messages
        code = re.search(r"\b(\d{6})\b", mail.get_content()).group(1)
        assert mail["To"] == "wren@example.com" and mail["From"] == "sso@tongxing.example"
        assert _post_account(site, "/account/email", {"email": "wren@example.com", "code": code}).status_code == 200
    assert site.outbox_count() == 1   # the registration SMS only: no email code sits in the database


def test_a_gateway_failure_answers_delivery_failed(make_app):
    from tests.support.gateways import free_port

    site = make_app(demo=True, demo_captcha="TEST", email={
        "gateway": "smtp", "smtp_host": "127.0.0.1", "smtp_port": free_port(), "smtp_security": "none",
        "from_address": "sso@tongxing.example", "timeout_seconds": 2})
    assert site.register("yves", "13900000039").status_code == 201
    site.login("yves")
    failed = _post_account(site, "/account/email", {"action": "send_code", "email": "yves@example.com"})
    assert (failed.status_code, failed.json["error"]) == (503, "delivery_failed")
    assert "try again" in failed.json["message_en"]
