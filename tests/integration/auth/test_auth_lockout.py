"""Lockout through the pages (DOMAIN rule 4, issue 2 "Lockout" and "Answers for programs")."""
import re

WRONG = "Wrong#Pass99"


def _fail_five(user, identifier):
    answers = [user.login(identifier, WRONG) for _ in range(5)]
    assert [a.status_code for a in answers] == [401] * 5
    assert [a.json["error"] for a in answers] == ["invalid_credentials"] * 5
    assert [a.json["attempts_left"] for a in answers] == [4, 3, 2, 1, 0]
    return answers


def test_lock_after_five_wrong_passwords(user, account_named):
    account_named("pia", "13900000031")
    fifth = _fail_five(user, "pia")[-1]
    assert "locked" in fifth.json["message_en"]
    # The 6th is refused without checking the password, even the right one.
    sixth = user.login("pia")
    assert sixth.status_code == 423
    assert sixth.json["error"] == "account_locked"
    assert 0 < sixth.json["retry_after"] <= 600
    assert sixth.headers["Retry-After"] == str(sixth.json["retry_after"])
    assert user.signed_in_as() is None


def test_all_identifiers_count_together(user, account_named):
    account_named("quinn", "13900000032")
    for identifier, left in [("quinn", 4), ("13900000032", 3), ("QUINN", 2), ("+8613900000032", 1), ("quinn", 0)]:
        assert user.login(identifier, WRONG).json["attempts_left"] == left
    assert user.login("13900000032").json["error"] == "account_locked"


def test_locked_page_says_when_it_unlocks(user, account_named):
    account_named("rosa", "13900000033")
    _fail_five(user, "rosa")
    # The clock stands at 09:00 UTC (+61 s per code sent); the lock lasts 10 minutes: 17:11 in UTC+8.
    page = user.post_form("/login", {"username": "rosa", "password": user.PASSWORD})
    text = page.get_data(as_text=True)
    assert page.status_code == 423 and page.headers["Retry-After"]
    assert re.search(r'class="error"[^>]*data-code="account_locked"', text)
    assert "17:11" in text and "北京时间" in text
    english = user.post_form("/login?lang=en", {"username": "rosa", "password": user.PASSWORD})
    assert "17:11" in english.get_data(as_text=True) and "Beijing time" in english.get_data(as_text=True)


def test_unknown_identifier_locks_alike(user):
    answers = [user.login("nobody", WRONG).json for _ in range(5)]
    assert [a["attempts_left"] for a in answers] == [4, 3, 2, 1, 0]
    assert user.login("nobody", WRONG).json["error"] == "account_locked"


def test_sms_login_still_works_while_locked(user, account_named):
    account_named("sam", "13900000034")
    _fail_five(user, "sam")
    response = user.login_sms("13900000034")
    assert response.status_code == 200 and response.json["account"]["username"] == "sam"


def test_lock_ends_after_the_window(user, account_named):
    account_named("tess", "13900000035")
    _fail_five(user, "tess")
    assert user.login("tess").json["error"] == "account_locked"
    user.clock.advance(600)
    response = user.login("tess")
    assert response.status_code == 200 and user.signed_in_as() == "tess"


def test_reset_clears_the_lock_and_signs_out_other_sessions(user, browser, account_named):
    account_named("uma", "13900000036")
    laptop = browser()
    assert laptop.login("uma").status_code == 200
    _fail_five(user, "uma")
    assert user.login("uma").json["error"] == "account_locked"

    user.clock.advance(61)  # past the per-phone send interval (registration sent a code)
    page = user.post_form("/forgot-password", {"action": "send_code", "phone": "13900000036", "captcha": "TEST"},
                          follow=True)
    assert "验证码已发送" in page.get_data(as_text=True)
    done = user.post_form("/forgot-password", {"phone": "13900000036", "code": user.latest_code("13900000036"),
                                               "password": "New#Secret2026"})
    assert done.status_code == 303
    finished = user.client.get(done.headers["Location"]).get_data(as_text=True)
    assert "密码已重置" in finished and 'href="/login"' in finished

    assert laptop.signed_in_as() is None  # every session of the account ended
    assert user.login("uma").json["error"] == "invalid_credentials"  # old password: checked, wrong
    response = user.login("uma", "New#Secret2026")
    assert response.status_code == 200


def test_reset_json_and_refusals(user, account_named):
    account_named("vera", "13900000037")
    user.send_code("/forgot-password", "13900000037")
    code = user.latest_code("13900000037")
    weak = user.post_json("/forgot-password", {"phone": "13900000037", "code": code, "password": "weak"})
    assert weak.status_code == 400 and weak.json["field"] == "password"
    wrong = user.post_json("/forgot-password", {"phone": "13900000037", "code": "x" + code,
                                                "password": "New#Secret2026"})
    assert wrong.json["error"] == "invalid_code"
    assert user.login("vera").status_code == 200  # nothing changed
    ok = user.post_json("/forgot-password", {"phone": "13900000037", "code": code, "password": "New#Secret2026"})
    assert ok.status_code == 200 and ok.json == {"status": "ok", "redirect": "/login"}
    assert user.signed_in_as() is None  # this browser's session ended too


def test_send_codes_are_rate_limited(user, account_named):
    account_named("wes", "13900000038")
    assert user.send_code("/login", "13900000038").status_code == 200
    again = user.post_json("/login", {"action": "send_code", "phone": "13900000038", "captcha": "TEST"})
    assert again.status_code == 429 and again.json["error"] == "rate_limited"
    assert again.headers["Retry-After"] == str(again.json["retry_after"])
