"""GET/POST /forgot-password: phone + SMS code, then a new password (DOMAIN rule 5).
A successful reset ends the lock (the domain) and every session of the account (here)."""
from __future__ import annotations

from flask import jsonify, redirect, render_template, request

from binding.password_flows import reset_password

from ..errors import form_page, wants_json
from ..session import end_account_sessions
from .helpers import next_param, password_flow, request_data, show_form
from .schemas import PasswordReset, load
from .sending import send_code
from .views import auth_url, bp

TEMPLATE = "auth/forgot.html"


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    nxt = next_param()
    if request.method == "GET":
        return show_form(TEMPLATE, "forgot", next=nxt)
    data = request_data()
    if data.get("action") == "send_code":
        return send_code(purpose="reset", page="forgot", template=TEMPLATE, context={"next": nxt},
                         data=data, keep=("phone",), back_to=auth_url("auth.forgot_password", next=nxt))
    form_page(TEMPLATE, next=nxt)
    fields = load(PasswordReset, data)
    password_flow(reset_password, phone=fields["phone"], code=fields["code"], new_password=fields["password"],
                  then=lambda db, account: end_account_sessions(db, account.id, "password_reset"))
    login_url = auth_url("auth.login", next=nxt)
    if wants_json():
        return jsonify(status="ok", redirect=login_url)
    return redirect(auth_url("auth.forgot_done", next=nxt), code=303)


@bp.get("/forgot-password/done")
def forgot_done():
    return render_template("auth/forgot_done.html", next=next_param())
