"""GET /account (who am I), its forms (change the password, add or change the email), POST
/logout, and GET / (where to go)."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, jsonify, redirect, render_template

from binding.db import transaction
from binding.identifiers import mask_email, mask_phone
from binding.login_sessions import ActiveLogin
from binding.models import Account
from binding.password_flows import change_password as change_password_flow

from ..csrf import csrf_token
from ..errors import form_page, wants_json
from ..services import services
from ..session import current_login, end_account_sessions, sign_out
from .helpers import account_json, account_service, keep_draft, password_flow, request_data, take_draft
from .schemas import EmailConfirmation, EmailVerification, PasswordChange, load
from .views import bp

TEMPLATE = "auth/account.html"
LOGIN_FIRST = "/login?next=/account"


@bp.get("/")
def index():
    return redirect("/account" if current_login() else "/login", code=303)


@bp.get("/account")
def account():
    login = current_login()
    if login is None:
        return _signed_out()
    context = _page(login)
    if wants_json():
        return jsonify(account=account_json(context["account"]) | {"cert_level": login.cert_level},
                       csrf_token=csrf_token())
    fields, notice = take_draft("account")
    return render_template(TEMPLATE, form=fields, notice=notice, **context)


@bp.post("/account/password")
def change_password():
    """Old password (counted by the lock like a login) + a new one; every OTHER session of
    the account ends (issue 2 "Sessions": server-side revocation on password change)."""
    login = current_login()
    if login is None:
        return _signed_out()
    form_page(TEMPLATE, **_page(login))
    fields = load(PasswordChange, request_data())
    password_flow(change_password_flow, login.account_id, fields["old_password"], fields["new_password"],
                  read_database=services().read_engine,
                  then=lambda db, account: end_account_sessions(db, account.id, "password_changed", keep_current=True))
    return _done("password_changed")


@bp.post("/account/email")
def change_email():
    """``action=send_code``: a code to the new address; else address + code: it becomes the
    account's verified email (then usable for email + code login)."""
    login = current_login()
    if login is None:
        return _signed_out()
    form_page(TEMPLATE, **_page(login))
    data = request_data()
    sending = data.get("action") == "send_code"
    fields = load(EmailVerification if sending else EmailConfirmation, data)
    with account_service() as (db, svc):
        row = db.get(Account, login.account_id)
        if sending:
            svc.send_email_verification(row, fields["email"])
        else:
            svc.confirm_email(row, fields["email"], fields["code"])
    if sending:
        return _done("code_sent", {"email": fields["email"]}, status="code_sent")
    return _done("email_verified")


@bp.post("/logout")
def logout():
    """Ends the session server-side: a copied cookie is worthless afterwards."""
    sign_out()
    if wants_json():
        return jsonify(status="ok", redirect="/login")
    return redirect("/login", code=303)


def _page(login: ActiveLogin) -> dict[str, Any]:
    # Only reads: on SQLite a write transaction would take the database's one write lock.
    with transaction(services().read_sessions) as db:
        row = db.get(Account, login.account_id)
        # Sections other features add to the page (issue 4: "my linked accounts").
        extra = [extend(db, login) for extend in current_app.extensions.get("tongxing.account_page", [])]
    context = {"account": row, "login": login, "phone": mask_phone(row.phone) if row.phone else None,
               "email": mask_email(row.email) if row.email else None}
    for section in extra:
        context.update(section)
    return context


def _signed_out():
    if wants_json():
        abort(401)
    return redirect(LOGIN_FIRST, code=303)


def _done(notice: str, keep: dict[str, str] | None = None, status: str = "ok"):
    """POST-redirect-GET back to the account page with a notice; JSON ``{"status": ...}``."""
    if wants_json():
        return jsonify(status=status)
    keep_draft("account", notice, keep or {})
    return redirect("/account", code=303)
