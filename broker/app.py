"""The Flask application factory."""
from __future__ import annotations

import logging
import re
import secrets
import time
from datetime import timedelta

from flask import Flask, g, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Clock, Settings
from providers.http import meter_upstream_waits

from . import i18n
from .config_check import check_settings, load_checked_settings
from .csrf import init_csrf
from .errors import init_errors
from .logs import AccessLog, configure_logging
from .services import build_services, services_of

access_log = AccessLog(logging.getLogger("broker.access"))
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Flask:
    """Build the broker. ``settings`` defaults to the environment (+ ``BROKER_CONFIG``); every
    part of the configuration is checked first, all problems in one ConfigError."""
    settings = load_checked_settings() if settings is None else check_settings(settings)
    services = build_services(settings, clock)
    settings = services.settings  # with the instance folder's key in development
    app = Flask(__name__, instance_path=services.instance_path)
    app.extensions["tongxing"] = services
    _configure(app, settings)
    if settings.trusted_proxies:
        # The client address (per-IP limits, audit) and scheme come from the proxies' headers,
        # believed for exactly that many hops (werkzeug ProxyFix); without proxies never.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    configure_logging(settings.log_level, lambda: g.get("request_id") if _in_request() else None)
    _register_hooks(app)  # first: the request id and locale exist before CSRF can refuse
    init_csrf(app)
    init_errors(app)
    _register_blueprints(app, settings)
    return app


def _configure(app: Flask, settings: Settings) -> None:
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME=settings.session.cookie_name,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=settings.session.absolute_lifetime_seconds),
        MAX_CONTENT_LENGTH=1024 * 1024,
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False
    app.session_interface = _CookieSessions()
    app.jinja_env.globals.update(t=i18n.t, current_locale=i18n.current_locale, switch_url=i18n.switch_url)


class _CookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie session with its serializer built once per key set: Flask builds a
    new one on every request, cookie or not (~10% of /healthz; README "Performance")."""

    def __init__(self):
        self._serializers: dict = {}

    def get_signing_serializer(self, app: Flask):
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = self._serializers[keys] = super().get_signing_serializer(app)
        return serializer


def _in_request() -> bool:
    from flask import has_request_context

    return has_request_context()


def _register_hooks(app: Flask) -> None:
    settings = services_of(app).settings

    @app.before_request
    def _start():
        sent = request.headers.get("X-Request-Id", "")
        g.request_id = sent if _REQUEST_ID.match(sent) else secrets.token_hex(8)
        g.started = time.perf_counter()
        g.upstream_waits = meter_upstream_waits()   # this request's waits on upstream portals
        g.locale = i18n.select_locale(settings.default_locale)

    hsts = settings.issuer.startswith("https://")

    @app.after_request
    def _finish(response):
        state = g._get_current_object()
        request_id = getattr(state, "request_id", "")
        response.headers["X-Request-Id"] = request_id
        _security_headers(response, hsts)
        i18n.remember_locale(response)
        _log_access(state, request_id, request._get_current_object(), response.status_code)
        return response


def _log_access(state, request_id: str, req, status: int) -> None:
    started = getattr(state, "started", None)
    extra = {"duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else 0.0}
    waits = getattr(state, "upstream_waits", None)
    if waits is not None and waits.calls:
        # Part of duration_ms spent waiting on upstream answers (README "Performance").
        extra.update(upstream_ms=waits.ms, upstream_calls=waits.calls)
    access_log.write(request_id, req.method, req.path, status, **extra)


_SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy",
     "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
     "form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'"),
)
# RFC 6797: browsers keep to https for a year once they saw the broker over it.
_HSTS = ("Strict-Transport-Security", "max-age=31536000")


def _security_headers(response, hsts: bool) -> None:
    """The headers every answer carries unless its view set its own (one pass over the
    response's headers, not one per header: this runs on every request)."""
    headers = response.headers
    present = {key.lower() for key, _ in headers.items()}
    missing = [(k, v) for k, v in ((_HSTS,) if hsts else ()) + _SECURITY_HEADERS if k.lower() not in present]
    if "cache-control" not in present and (response.mimetype == "text/html" or request.method == "POST"):
        missing.append(("Cache-Control", "no-store"))
    headers.extend(missing)


def _register_blueprints(app: Flask, settings: Settings) -> None:
    from . import dev, health
    from . import oidc
    from .auth import views as auth_views

    app.register_blueprint(health.bp)
    auth_views.register(app)
    oidc.register(app)
    from . import federation

    federation.register(app)
    if settings.demo:
        dev.register(app)
