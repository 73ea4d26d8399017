"""GET/POST /login: password, SMS-code and email-code tabs (DOMAIN rules 2-4)."""
from __future__ import annotations

from typing import Any, Mapping

from flask import request

from binding.accounts import local_cert_level

from .. import captcha
from ..errors import form_page
from ..session import sign_in
from .helpers import account_service, ip_needs_captcha, next_param, password_login, request_data, show_form, signed_in
from .schemas import CodeLogin, EmailCodeLogin, PasswordLogin, load
from .sending import send_code
from .views import auth_url, bp

TEMPLATE = "auth/login.html"
TABS = ("password", "sms", "email")
# What each code tab sends and keeps: (purpose, the field holding the recipient).
_CODE_TABS = {"sms": ("login", "phone"), "email": ("email_login", "email")}


@bp.route("/login", methods=["GET", "POST"])
def login():
    nxt = next_param()
    if request.method == "GET":
        return _show(_tab({}), nxt)
    data = request_data()
    tab = _tab(data)
    if data.get("action") == "send_code":
        purpose, recipient = _CODE_TABS[tab]
        return send_code(purpose=purpose, page="login", template=TEMPLATE, context=_context(tab, nxt),
                         data=data, keep=(recipient,), back_to=auth_url("auth.login", tab=tab, next=nxt))
    if tab == "sms":
        return _with_code(data, nxt)
    if tab == "email":
        return _with_email_code(data, nxt)
    return _with_password(data, nxt)


def _tab(data: Mapping[str, Any]) -> str:
    tab = data.get("tab") or request.args.get("tab")
    if data.get("action") == "send_code":
        return tab if tab in _CODE_TABS else "sms"
    return tab if tab in TABS else "password"


def _context(tab: str, nxt: str) -> dict[str, Any]:
    return {"tab": tab, "next": nxt, "show_captcha": _AskedWhenShown(ip_needs_captcha) if tab == "password" else False}


class _AskedWhenShown:
    """A flag worked out only when a page actually shows it: a successful or JSON login renders
    no form, so it spares the Redis round trip (the service asks the throttle itself)."""

    def __init__(self, ask):
        self._ask, self._answer = ask, None

    def __bool__(self) -> bool:
        if self._answer is None:
            self._answer = bool(self._ask())
        return self._answer


def _show(tab: str, nxt: str):
    return show_form(TEMPLATE, "login", **_context(tab, nxt))


def _with_password(data: Mapping[str, Any], nxt: str):
    form_page(TEMPLATE, **_context("password", nxt))
    fields = load(PasswordLogin, data)
    # A wrong captcha is refused here, before any password is checked or counted.
    captcha_passed = captcha.verify_if_given(fields.get("captcha"))
    # No database transaction is open while the password is verified (binding.password_flows).
    account = password_login(fields["username"], fields["password"], captcha_passed=captcha_passed,
                             then=lambda db, account: sign_in(db, account, methods=("pwd",),
                                                              cert_level=local_cert_level(account)))
    return signed_in(account, nxt)


def _with_code(data: Mapping[str, Any], nxt: str):
    form_page(TEMPLATE, **_context("sms", nxt))
    fields = load(CodeLogin, data)
    with account_service() as (db, svc):
        account = svc.login_phone_code(fields["phone"], fields["code"])
        sign_in(db, account, methods=("sms",), cert_level=local_cert_level(account))
    return signed_in(account, nxt)


def _with_email_code(data: Mapping[str, Any], nxt: str):
    form_page(TEMPLATE, **_context("email", nxt))
    fields = load(EmailCodeLogin, data)
    with account_service() as (db, svc):
        account = svc.login_email_code(fields["email"], fields["code"])
        # RFC 8176: "otp" (one-time password); "sms" is for SMS confirmation only.
        sign_in(db, account, methods=("otp",), cert_level=local_cert_level(account))
    return signed_in(account, nxt)
