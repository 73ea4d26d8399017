"""The "send code" button shared by the login (SMS tab), registration and reset forms: an image
captcha first (DOMAIN rule 3), then the domain sends the code (it applies the send limits)."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from flask import jsonify, redirect

from .. import captcha
from ..errors import form_page, wants_json
from .helpers import account_service, keep_draft
from .schemas import SendCode, SendEmailCode, load


def send_code(*, purpose: str, page: str, template: str, context: Mapping[str, Any],
              data: Mapping[str, Any], keep: Iterable[str], back_to: str):
    """Send a ``purpose`` code to the submitted phone (or email, for ``email_login``); the page comes back with a notice and
    the non-secret input kept (POST-redirect-GET), or JSON ``{"status": "code_sent"}``."""
    form_page(template, **context)
    by_email = purpose == "email_login"
    fields = load(SendEmailCode if by_email else SendCode, data)
    captcha.require(fields["captcha"])
    with account_service() as (_db, svc):
        if by_email:
            svc.send_email_code(fields["email"])
        else:
            svc.send_code(purpose, fields["phone"])
    if wants_json():
        return jsonify(status="code_sent")
    keep_draft(page, "code_sent", {name: data.get(name) for name in keep})
    return redirect(back_to, code=303)
