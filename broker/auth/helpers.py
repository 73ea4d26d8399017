"""Small helpers shared by the local-account views: request input, the domain service,
safe redirects, and form drafts kept across POST-redirect-GET."""
from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Mapping

from flask import g, jsonify, redirect, render_template, request, session
from sqlalchemy.orm import Session

from binding.db import transaction
from binding.identifiers import mask_email, mask_phone

from ..csrf import csrf_token
from ..errors import wants_json
from ..session import services

DEFAULT_NEXT = "/account"
_DRAFT_KEY = "auth_draft"
_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")


def request_data() -> Mapping[str, Any]:
    """The submitted fields: a JSON body for programs, else the form."""
    if request.is_json:
        body = request.get_json(silent=True)
        return body if isinstance(body, dict) else {}
    return request.form


def safe_next(value: str | None) -> str:
    """Only a same-origin relative path is followed (no ``//host`` or ``/\\host``: open redirect,
    OWASP Unvalidated Redirects Cheat Sheet); anything else goes to the account page."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or _CONTROL.search(value):
        return DEFAULT_NEXT
    return value


def next_param() -> str:
    data = request_data() if request.method == "POST" else {}
    return safe_next(request.args.get("next") or (data.get("next") if isinstance(data.get("next"), str) else None))


@contextmanager
def account_service() -> Iterator[tuple[Session, Any]]:
    """One unit of work with the accounts domain service built for this request."""
    s = services()
    with transaction(s.sessions) as db:
        yield db, account_service_builder()(db)


def password_login(identifier: str, password: str, *, captcha_passed: bool,
                   then: Callable[[Session, Any], object]) -> Any:
    """``binding.password_flows.login_with_password`` for this request: the account looked up
    on a read-only session, the password verified with no transaction open, then the account
    signed in and ``then(db, account)`` (the broker session) in one short write transaction."""
    from binding.password_flows import login_with_password

    return password_flow(login_with_password, identifier, password, captcha_passed=captcha_passed,
                         read_database=services().read_engine, then=then)


def password_flow(flow: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """A ``binding.password_flows`` function on this request's database and domain service: no
    transaction is open while it hashes or verifies a password (issue 5)."""
    return flow(services().engine, account_service_builder(), *args, **kwargs)


def account_service_builder() -> Callable[[Session], Any]:
    """``db -> AccountService`` wired for this request (its client address and request id)."""
    from binding.accounts import build_account_service

    s = services()
    ip, request_id = request.remote_addr, g.get("request_id")
    return lambda db: build_account_service(db, settings=s.settings, redis=s.redis, clock=s.clock,
                                            ip=ip, request_id=request_id)


def ip_needs_captcha() -> bool:
    """Whether this IP is over the credential-stuffing threshold, so the login form asks for
    the captcha up front instead of after a refused attempt."""
    from lockout import IpThrottle

    s = services()
    return IpThrottle(s.redis, s.settings.lockout, s.clock).needs_captcha(request.remote_addr or "")


def account_json(account) -> dict[str, Any]:
    from binding.accounts import local_cert_level

    return {"username": account.username, "kind": account.kind, "public_id": account.public_id,
            "phone": mask_phone(account.phone) if account.phone else None, "cert_level": local_cert_level(account),
            "email": mask_email(account.email) if account.email else None, "email_verified": bool(account.email_verified)}


def signed_in(account, next_url: str, status: int = 200):
    """The answer after a successful sign-in: JSON for programs, else 303 (POST-redirect-GET)."""
    if wants_json():
        return jsonify(status="ok", account=account_json(account), redirect=next_url), status
    return redirect(next_url, code=303)


def keep_draft(page: str, notice: str, fields: Mapping[str, Any]) -> None:
    """Remember non-secret input (never passwords or codes) across the redirect after a POST."""
    session[_DRAFT_KEY] = {"page": page, "notice": notice,
                           "fields": {k: v for k, v in fields.items() if isinstance(v, str)}}


def take_draft(page: str) -> tuple[dict[str, str], str | None]:
    draft = session.pop(_DRAFT_KEY, None)
    if not isinstance(draft, dict) or draft.get("page") != page:
        return {}, None
    return dict(draft.get("fields") or {}), draft.get("notice")


def show_form(template: str, page: str, **context: Any):
    """GET of a form page: the CSRF token for programs, else the page with any kept draft."""
    if wants_json():
        return jsonify(csrf_token=csrf_token())
    fields, notice = take_draft(page)
    return render_template(template, form=fields, notice=notice, **context)

