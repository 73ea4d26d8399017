"""Live servers for the federation browser stories: the broker, the sandbox upstream portals
(configured from ``sandbox.portals.demo_config``, as ``broker demo`` does) and the demo downstream
portals, each on a free port, with the DEMO.md cast. Import the fixture into a test module."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete
from werkzeug.serving import make_server

from binding.db import transaction
from binding.oauth import OAuthClient
from binding.oauth.demo import seed_demo_clients
from broker import create_app
from broker.demo.seed import seed_cast
from config import system_clock
from sandbox.downstream import create_portal
from sandbox.portals import create_sandbox
from sandbox.portals.demo_config import demo_clients, provider_tables
from tests.conftest import make_settings
from tests.support.factories import CHEAP_PASSWORD

PORTAL_PASSWORD = "Portal@2026"


class _Server:
    def __init__(self, name: str):
        self.server = make_server("127.0.0.1", 0, lambda environ, start_response: [], threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name=name, daemon=True)

    def serve(self, app) -> None:
        self.server.app = app
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class FederationDemo:
    def __init__(self, broker: str, sandbox: str, portal: str, broker_app, sandbox_app):
        self.broker_url, self.sandbox_url, self.portal_url = broker, sandbox, portal
        self.app = broker_app
        self.sandbox_app = sandbox_app

    def broker(self, path: str = "/") -> str:
        return self.broker_url + path

    def sandbox(self, path: str = "/") -> str:
        return self.sandbox_url + path

    def portal(self, path: str = "/") -> str:
        return self.portal_url + path


@pytest.fixture
def fed_demo(infra, engine):
    servers = [_Server("broker"), _Server("sandbox"), _Server("downstream")]
    broker, sandbox, downstream = servers
    settings = make_settings(infra, demo=True, demo_captcha="DEMO", issuer=broker.url, password=CHEAP_PASSWORD,
                             providers=provider_tables(sandbox.url))
    app = create_app(settings)   # the system clock: the sandbox signs ID tokens with wall-clock times
    services = app.extensions["tongxing"]
    with transaction(services.sessions) as db:
        seed_cast(db, settings, system_clock)
        db.execute(delete(OAuthClient))   # demo mode may have seeded them for the default port
        seed_demo_clients(db, settings, system_clock, portal_url=downstream.url)
    sandbox_app = create_sandbox(sandbox.url, demo_clients(broker.url))
    broker.serve(app)
    sandbox.serve(sandbox_app)
    downstream.serve(create_portal(broker.url, downstream.url))
    try:
        yield FederationDemo(broker.url, sandbox.url, downstream.url, app, sandbox_app)
    finally:
        for s in servers:
            s.stop()
        services.dispose()


def portal_sign_in(page, username: str, password: str = PORTAL_PASSWORD) -> None:
    """At the upstream portal's login page, as a person types it."""
    page.wait_for_selector("#portal-login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#portal-login")
    page.wait_for_load_state()
