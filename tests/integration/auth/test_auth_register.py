"""Registration (DOMAIN rule 1): phone + SMS code after an image captcha, username, password, kind."""
import re

import pytest


def test_register_through_the_page(user):
    page = user.client.get("/register").get_data(as_text=True)
    assert 'name="csrf_token"' in page
    assert 'autocomplete="new-password"' in page and 'id="kind-enterprise"' in page

    sent = user.post_form("/register", {"action": "send_code", "phone": "13900000001", "captcha": "TEST",
                                        "username": "alice"}, follow=True)
    text = sent.get_data(as_text=True)
    assert 'class="notice"' in text and "验证码已发送" in text
    assert 'value="13900000001"' in text and 'value="alice"' in text  # input kept across the redirect

    done = user.post_form("/register", {"phone": "13900000001", "code": user.latest_code("13900000001"),
                                        "username": "alice", "password": user.PASSWORD, "kind": "personal"})
    assert done.status_code == 303 and done.headers["Location"] == "/account"
    account = user.client.get("/account").get_data(as_text=True)
    assert "alice" in account and "139****0001" in account and "个人用户" in account
    assert 'data-level="2"' in account  # account + verified phone


def test_register_json_enterprise(user):
    response = user.register("acme", "13900000002", kind="enterprise")
    assert response.status_code == 201
    assert response.json["status"] == "ok"
    assert response.json["account"]["username"] == "acme"
    assert response.json["account"]["kind"] == "enterprise"
    assert response.json["redirect"] == "/account"
    assert user.signed_in_as() == "acme"


def test_phone_already_registered_is_refused_before_any_code(user, account_named):
    account_named("first", "13900000003")
    sent_before = user.outbox_count()
    response = user.send_code("/register", "13900000003")
    assert response.status_code == 409
    assert response.json["error"] == "conflict" and response.json["field"] == "phone"
    assert "已注册" in response.json["message_zh"] and "already registered" in response.json["message_en"]
    assert user.outbox_count() == sent_before


def _register_payload(user, phone, **overrides):
    user.send_code("/register", phone)
    body = {"phone": phone, "code": user.latest_code(phone), "username": "bob", "password": user.PASSWORD,
            "kind": "personal"}
    body.update(overrides)
    return body


@pytest.mark.parametrize("overrides, status, code, field, words", [
    ({"password": "short1A"}, 400, "invalid_fields", "password", "at least 8"),
    ({"password": "alllowercaseletters"}, 400, "invalid_fields", "password", "three of"),
    ({"code": "000000x"}, 400, "invalid_code", "code", "Wrong code"),
    ({"kind": "staff"}, 400, "invalid_fields", "kind", ""),
    ({"username": "9bad"}, 400, "invalid_fields", "username", "start with a letter"),
])
def test_refused_registration_names_the_field_and_changes_nothing(user, overrides, status, code, field, words):
    body = _register_payload(user, "13900000004", **overrides)
    before = user.count_accounts()
    response = user.post_json("/register", body)
    assert response.status_code == status, response.json
    assert response.json["error"] == code
    assert response.json["field"] == field
    assert words in response.json["message_en"]
    assert response.json["message_zh"]
    assert user.count_accounts() == before
    assert user.signed_in_as() is None


def test_username_taken_refused_and_the_code_still_works(user, account_named):
    account_named("carol", "13900000005")
    body = _register_payload(user, "13900000006", username="CAROL")
    before = user.count_accounts()
    response = user.post_json("/register", body)
    assert response.status_code == 409
    assert response.json["field"] == "username" and "taken" in response.json["message_en"]
    assert user.count_accounts() == before
    # Nothing was used up: the same code registers with a free name.
    response = user.post_json("/register", {**body, "username": "carol2"})
    assert response.status_code == 201, response.json


def test_invalid_phone_is_refused_on_send_and_on_register(user):
    response = user.send_code("/register", "12345")
    assert response.status_code == 400
    assert response.json["error"] == "invalid_fields" and response.json["field"] == "phone"
    assert "mainland" in response.json["message_en"]
    response = user.post_json("/register", {"phone": "12345", "code": "123456", "username": "dave",
                                            "password": user.PASSWORD, "kind": "personal"})
    assert response.json["error"] == "invalid_fields" and "phone" in response.json["fields"]
    assert user.outbox_count() == 0 and user.count_accounts() == 0


def test_missing_fields_are_all_named_in_both_languages(user):
    response = user.post_json("/register", {"phone": "", "kind": "personal"})
    assert response.status_code == 400
    fields = response.json["fields"]
    assert set(fields) == {"phone", "code", "username", "password"}
    assert fields["username"] == {"zh": "请填写用户名", "en": "Username is required"}


def test_refused_page_shows_the_error_and_keeps_input_but_never_the_password(user):
    body = _register_payload(user, "13900000007", password="weakpassword")
    body.pop("code")
    response = user.post_form("/register", {**body, "code": user.latest_code("13900000007")})
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'class="error"[^>]*data-code="invalid_fields"', text)
    assert 'class="field-error"' in text and "三类" in text
    assert 'value="bob"' in text and 'value="13900000007"' in text
    assert "weakpassword" not in text


def test_pages_speak_english_on_request(user):
    text = user.client.get("/register?lang=en").get_data(as_text=True)
    assert "Create an account" in text and "Personal user" in text
    response = user.post_json("/register?lang=en", {"phone": "1"})
    assert response.json["message"] == response.json["message_en"]
