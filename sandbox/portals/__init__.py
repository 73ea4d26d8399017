"""The sandbox upstream portals (ISSUE4.md "Sandbox portals"): one Flask app, one blueprint per
portal under its path, in-memory state. The broker talks to them over HTTP exactly as it would
to the real portals; it never imports this package (ARCHITECTURE.md)."""
from __future__ import annotations

import secrets

from flask import Flask, render_template

from . import bj_yzt, miit, qq, sd_portal, weibo, wechat
from .accounts import AccountStore
from .sd_keys import SigningKeys
from .state import Store, parse_clients
from .web import Sandbox

PORTALS = (sd_portal, bj_yzt, miit, wechat, qq, weibo)


def create_sandbox(base_url: str, clients: list[dict]) -> Flask:
    """A WSGI app serving every portal at ``base_url`` (where it is reached, e.g.
    http://127.0.0.1:5001). ``clients`` = [{client_id, client_secret, redirect_uris}], registered
    at every portal. ``app.config["SANDBOX_FAULTS"]`` is the test-only fault switch (see README
    of tests/sandbox or ``web.faults``)."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY=secrets.token_hex(32), SESSION_COOKIE_NAME="sandbox_session",
                      SESSION_COOKIE_SAMESITE="Lax", SANDBOX_FAULTS={})
    app.extensions["sandbox"] = Sandbox(base_url.rstrip("/"), AccountStore(), Store(), parse_clients(clients))
    app.extensions["sd_portal_keys"] = SigningKeys()
    app.extensions["sd_portal_server"] = sd_portal.create_server(app)
    for module in PORTALS:
        app.register_blueprint(module.bp)

    @app.get("/")
    def index():
        return render_template("sandbox/index.html", portals=[m.PORTAL for m in PORTALS])

    return app


def rotate_signing_key(app: Flask) -> str:
    """Publish a new sd-portal signing key (new ``kid`` in the JWKS) and sign with it from now
    on; returns the new kid. Same as POST /sd-portal/_sandbox/rotate-key."""
    return app.extensions["sd_portal_keys"].rotate()
