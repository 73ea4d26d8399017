"""The one place that maps domain errors to HTTP: a JSON body for programs, a page for people.

A view that wants a failed form shown again sets ``form_page(template, **context)`` before it
calls the domain; the handler re-renders that template with the error and the user's input.
"""
from __future__ import annotations

import logging

from flask import Flask, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from binding.errors import DomainError, ValidationFailed
from providers.base import ProviderError

from .i18n import current_locale, t

log = logging.getLogger("broker.errors")

STATUS_BY_CODE = {
    "invalid_fields": 400,
    "invalid_request": 400,
    "csrf_failed": 400,
    "captcha_required": 400,
    "invalid_captcha": 400,
    "invalid_code": 400,
    "invalid_credentials": 401,
    "account_disabled": 403,
    "forbidden": 403,
    "unmet_requirements": 403,           # issue 3: login short of a client policy (broker.oidc.errors)
    "oauth_request_invalid": 400,        # issue 3: authorization / logout request never redirected
    "not_found": 404,
    "conflict": 409,
    "identity_kind_taken": 409,          # issue 4 linking rules (binding.linking)
    "identity_linked_elsewhere": 409,
    "last_sign_in_method": 409,
    "phone_registered": 409,             # profile completion: the phone belongs to another account
    "state_invalid": 400,                # broker.federation.errors
    "federation_expired": 400,
    "account_locked": 423,
    "rate_limited": 429,
    "delivery_failed": 503,              # the SMS / email gateway did not take the code (binding.gateways)
    "upstream_denied": 403,              # issue 4: providers.errors (handle_provider_error)
    "upstream_unavailable": 502,
}
_RETRY_AFTER_CODES = ("account_locked", "rate_limited")


def wants_json() -> bool:
    if request.headers.get("Accept") == "application/json":   # what programs send: no parsing
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def form_page(template: str, **context) -> None:
    """Declare the page to show again, with the error, if the domain refuses this request."""
    g.form_page = (template, context)


def error_body(error: DomainError) -> dict:
    body = {"error": error.code, "message": error.message(current_locale()), "message_zh": error.zh,
            "message_en": error.en}
    if error.field:
        body["field"] = error.field
    if isinstance(error, ValidationFailed):
        body["fields"] = {name: {"zh": zh, "en": en} for name, (zh, en) in error.errors.items()}
    body.update(error.data)
    return body


def handle_domain_error(error: DomainError):
    status = STATUS_BY_CODE.get(error.code, 400)
    headers = dict(getattr(error, "headers", None) or {})
    if error.code in _RETRY_AFTER_CODES and "retry_after" in error.data:
        headers["Retry-After"] = str(error.data["retry_after"])
    if wants_json():
        return jsonify(error_body(error)), status, headers
    own = getattr(error, "page", None)   # a refusal with a page of its own: (template, context)
    if own:
        template, context = own
        # The message in the language of this page (a page's own context may still name another).
        context = {"message": error.message(current_locale()), **context}
        return render_template(template, **context), status, headers
    page = getattr(g, "form_page", None)
    if page:
        template, context = page
        fields = error.errors if isinstance(error, ValidationFailed) else {}
        field_errors = {k: (zh if current_locale() == "zh" else en) for k, (zh, en) in fields.items()}
        return render_template(template, error=error, error_message=error.message(current_locale()),
                               field_errors=field_errors, form=request.form, **context), status, headers
    return render_template("error.html", message=error.message(current_locale()), code=error.code), status, headers


def handle_http_error(error: HTTPException):
    if wants_json():
        return jsonify({"error": error.name.lower().replace(" ", "_"), "message": error.description}), error.code
    message = t("error.not_found") if error.code == 404 else error.description
    return render_template("error.html", message=message, code=error.code), error.code


def handle_unexpected(error: Exception):
    log.exception("unhandled error")
    if wants_json():
        return jsonify({"error": "server_error", "message": t("error.internal")}), 500
    return render_template("error.html", message=t("error.internal"), code="server_error"), 500


def handle_provider_error(error: ProviderError):
    """An upstream login that cannot complete (issue 4): a clear page with a retry link (the
    view sets ``g.federation_retry``), never a stack trace. Upstream text is never shown."""
    status = STATUS_BY_CODE.get(error.code, 400)
    retry = g.get("federation_retry")
    log.warning("upstream login failed: %s", error.code)
    if wants_json():
        return jsonify({"error": error.code, "message": error.message(current_locale()), "message_zh": error.zh,
                        "message_en": error.en, "retry": error.retry, "retry_url": retry}), status
    return render_template("federation/error.html", message=error.message(current_locale()), code=error.code,
                           retry_url=retry), status


def init_errors(app: Flask) -> None:
    app.register_error_handler(ProviderError, handle_provider_error)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
