"""CSRF on every form (house rules): a missing or wrong token is refused and changes nothing."""
import re

import pytest

WRONG = "Wrong#Pass99"


@pytest.mark.parametrize("token", [None, "", "not-the-token"])
def test_login_without_the_right_token_is_refused_and_not_counted(user, account_named, token):
    account_named("zoe", "13900000051")
    user.csrf()
    headers = dict(user.JSON)
    if token is not None:
        headers["X-CSRF-Token"] = token
    for _ in range(6):
        response = user.client.post("/login", json={"username": "zoe", "password": WRONG}, headers=headers)
        assert response.status_code == 400 and response.json["error"] == "csrf_failed"
    # None of those reached the password check: the account is not locked.
    assert user.login("zoe").status_code == 200


def test_form_without_token_shows_an_error_page(user):
    user.client.get("/login")
    response = user.client.post("/login", data={"username": "zoe", "password": WRONG})
    assert response.status_code == 400
    assert re.search(r'class="error"[^>]*data-code="csrf_failed"', response.get_data(as_text=True))


def test_registration_and_codes_without_token_change_nothing(user):
    user.csrf("/register")
    bad = {**user.JSON, "X-CSRF-Token": "forged"}
    sent = user.client.post("/register", json={"action": "send_code", "phone": "13900000052", "captcha": "TEST"},
                            headers=bad)
    assert sent.json["error"] == "csrf_failed"
    made = user.client.post("/register", json={"phone": "13900000052", "code": "123456", "username": "forged",
                                               "password": user.PASSWORD, "kind": "personal"}, headers=bad)
    assert made.json["error"] == "csrf_failed"
    assert user.outbox_count() == 0 and user.count_accounts() == 0


def test_logout_needs_the_token(user, account_named):
    account_named("abel", "13900000053")
    user.login("abel")
    response = user.client.post("/logout", headers=user.JSON)
    assert response.json["error"] == "csrf_failed"
    assert user.signed_in_as() == "abel"
    assert user.logout().json == {"status": "ok", "redirect": "/login"}
    assert user.signed_in_as() is None


def test_get_answers_a_token_for_programs(user):
    for path in ("/login", "/register", "/forgot-password"):
        body = user.client.get(path, headers=user.JSON).json
        assert set(body) == {"csrf_token"} and len(body["csrf_token"]) > 20
