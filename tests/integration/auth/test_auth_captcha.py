"""Image captcha (DOMAIN rule 3): before any code is sent, and on password login when this IP
is over the credential-stuffing threshold."""
import re

from flask import session

from broker import captcha


def _read_captcha(actions) -> str:
    """Stand in for a person reading /captcha.png: issue a challenge and hand this browser's
    session exactly what the image request would have stored."""
    with actions.app.test_request_context():
        text = captcha.issue()
        entry = dict(session["captcha"])
    with actions.client.session_transaction() as stored:
        stored["captcha"] = entry
    return text


def test_captcha_image(user):
    response = user.client.get("/captcha.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG")
    assert response.headers["Cache-Control"] == "no-store"
    with user.client.session_transaction() as stored:
        entry = stored["captcha"]
    assert set(entry) == {"id", "mac", "exp"}  # the answer itself is not in the cookie


def test_demo_text_passes_only_in_demo_mode(make_app):
    plain = make_app()  # not demo: "TEST" is just a wrong answer
    response = plain.send_code("/register", "13900000041", captcha="TEST")
    assert response.status_code == 400
    assert response.json["error"] == "invalid_captcha" and response.json["field"] == "captcha"
    assert plain.outbox_count() == 0
    lying = make_app(demo_captcha="TEST")  # set, but demo mode off: still refused
    assert lying.send_code("/register", "13900000041", captcha="TEST").json["error"] == "invalid_captcha"


def test_real_captcha_is_case_insensitive_and_single_use(make_app):
    plain = make_app()
    answer = _read_captcha(plain)
    assert answer == answer.upper() and len(answer) == 4
    assert plain.send_code("/register", "13900000042", captcha=answer.lower()).status_code == 200
    assert plain.outbox_count() == 1
    again = plain.send_code("/register", "13900000042", captcha=answer)
    assert again.json["error"] == "invalid_captcha"


def test_replayed_cookie_cannot_reuse_a_captcha(make_app):
    plain = make_app()
    answer = _read_captcha(plain)
    token = plain.csrf("/register")
    cookie_name = plain.app.config["SESSION_COOKIE_NAME"]
    saved = plain.client.get_cookie(cookie_name).value
    body = {"action": "send_code", "phone": "13900000043", "captcha": answer}
    headers = {**plain.JSON, "X-CSRF-Token": token}
    assert plain.client.post("/register", json=body, headers=headers).status_code == 200
    plain.clock.advance(61)
    plain.client.set_cookie(cookie_name, saved)  # the cookie from before the captcha was used
    replay = plain.client.post("/register", json=body, headers=headers)
    assert replay.json["error"] == "invalid_captcha"


def test_captcha_expires(make_app):
    plain = make_app()
    answer = _read_captcha(plain)
    plain.clock.advance(301 - 61)  # send_code steps 61 s itself; the captcha lives 300 s
    assert plain.send_code("/register", "13900000044", captcha=answer).json["error"] == "invalid_captcha"


def test_codes_need_the_captcha_first(user):
    missing = user.post_json("/register", {"action": "send_code", "phone": "13900000045"})
    assert missing.status_code == 400 and missing.json["field"] == "captcha"
    wrong = user.send_code("/login?tab=sms", "13900000045", captcha="NOPE")
    assert wrong.json["error"] == "invalid_captcha"
    page = user.post_form("/forgot-password", {"action": "send_code", "phone": "13900000045", "captcha": "NOPE"})
    text = page.get_data(as_text=True)
    assert page.status_code == 400 and re.search(r'data-code="invalid_captcha"', text)
    assert 'value="13900000045"' in text
    assert user.outbox_count() == 0


def test_password_login_asks_for_captcha_when_this_ip_is_over_the_threshold(make_app, clock):
    site = make_app(demo=True, demo_captcha="TEST", lockout={"ip_failure_threshold": 6})
    for username, phone in (("xena", "13900000046"), ("yuri", "13900000047")):
        assert site.register(username, phone).status_code == 201
    site.logout()
    answers = [site.login(name, "Wrong#Pass99") for name in ["xena"] * 4 + ["yuri"] * 3]
    assert [a.json["error"] for a in answers] == ["invalid_credentials"] * 7
    assert answers[-1].json.get("captcha_required") is True

    asked = site.login("xena")
    assert asked.status_code == 400 and asked.json["error"] == "captcha_required"
    assert 'name="captcha"' in site.client.get("/login").get_data(as_text=True)
    # A wrong captcha is refused before the password is looked at: nothing is counted.
    assert site.login("xena", "Wrong#Pass99", captcha="NOPE").json["error"] == "invalid_captcha"
    assert site.login("xena", "Wrong#Pass99", captcha="TEST").json["attempts_left"] == 0
    assert site.login("yuri", captcha="TEST").status_code == 200
