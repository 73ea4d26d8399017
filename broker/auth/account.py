"""GET /account (who am I), POST /logout, and GET / (where to go)."""
from __future__ import annotations

from flask import abort, jsonify, redirect, render_template

from binding.db import transaction
from binding.identifiers import mask_phone
from binding.models import Account

from ..csrf import csrf_token
from ..errors import wants_json
from ..session import current_login, services, sign_out
from .helpers import account_json
from .views import bp


@bp.get("/")
def index():
    return redirect("/account" if current_login() else "/login", code=303)


@bp.get("/account")
def account():
    login = current_login()
    if login is None:
        if wants_json():
            abort(401)
        return redirect("/login?next=/account", code=303)
    with transaction(services().sessions) as db:
        row = db.get(Account, login.account_id)
    if wants_json():
        return jsonify(account=account_json(row) | {"cert_level": login.cert_level}, csrf_token=csrf_token())
    return render_template("auth/account.html", account=row, phone=mask_phone(row.phone) if row.phone else None, login=login)


@bp.post("/logout")
def logout():
    """Ends the session server-side: a copied cookie is worthless afterwards."""
    sign_out()
    if wants_json():
        return jsonify(status="ok", redirect="/login")
    return redirect("/login", code=303)
