"""GET/POST /register: phone + SMS code, username, password, user type (DOMAIN rule 1)."""
from __future__ import annotations

from flask import request

from binding.accounts import local_cert_level
from binding.password_flows import register_account

from ..errors import form_page
from ..session import sign_in
from .helpers import next_param, password_flow, request_data, show_form, signed_in
from .schemas import Registration, load
from .sending import send_code
from .views import auth_url, bp

TEMPLATE = "auth/register.html"


@bp.route("/register", methods=["GET", "POST"])
def register():
    nxt = next_param()
    if request.method == "GET":
        return show_form(TEMPLATE, "register", next=nxt)
    data = request_data()
    if data.get("action") == "send_code":
        return send_code(purpose="register", page="register", template=TEMPLATE, context={"next": nxt},
                         data=data, keep=("phone", "username", "kind"),
                         back_to=auth_url("auth.register", next=nxt))
    form_page(TEMPLATE, next=nxt)
    fields = load(Registration, data)
    # The SMS code just proved the phone: the new user is signed in straight away.
    account = password_flow(register_account, **fields, then=lambda db, account: sign_in(
        db, account, methods=("sms",), cert_level=local_cert_level(account)))
    return signed_in(account, nxt, status=201)
