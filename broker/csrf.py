"""CSRF protection for every state-changing request: a per-session token in the form field
``csrf_token`` or the ``X-CSRF-Token`` header, compared in constant time (the synchronizer
token pattern of the OWASP CSRF Prevention Cheat Sheet)."""
from __future__ import annotations

import hmac
import secrets

from flask import Flask, current_app, request, session

from binding.errors import DomainError

from .messages import MESSAGES

_SAFE = ("GET", "HEAD", "OPTIONS", "TRACE")
_EXEMPT_ATTR = "_csrf_exempt"


class CsrfFailed(DomainError):
    code = "csrf_failed"

    def __init__(self):
        super().__init__(*MESSAGES["error.csrf"])


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_exempt(view):
    """For endpoints authenticated otherwise (OAuth client credentials, bearer tokens)."""
    setattr(view, _EXEMPT_ATTR, True)
    return view


def token_matches() -> bool:
    """Whether this request carries the session's CSRF token (form field or header), compared
    in constant time. Views exempt from the generic check call it where they need it."""
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf") or ""
    return bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())


def _check() -> None:
    if request.method in _SAFE:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, _EXEMPT_ATTR, False):
        return
    if not token_matches():
        raise CsrfFailed()


def init_csrf(app: Flask) -> None:
    app.before_request(_check)
    app.jinja_env.globals["csrf_token"] = csrf_token
