"""Federation through the Flask test client and the REAL sandbox portals over HTTP.

The broker's callback URL (http://127.0.0.1:5000/federation/callback/<id>) is registered at the
sandbox; nothing listens there: ``portal_login`` signs in at the portal like a person and stops
at the redirect, and the test hands its parameters to the broker's callback endpoint."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from sqlalchemy import select

from binding.db import transaction
from binding.models import Account, LoginSession
from binding.oauth.demo import seed_demo_clients
from binding.upstream_models import UpstreamIdentity
from broker.demo.seed import seed_cast
from sandbox.portals import create_sandbox
from sandbox.portals.demo_config import demo_clients, provider_tables
from sandbox.testing import portal_login, run_server
from tests.conftest import make_settings
from tests.integration.oidc.conftest import PORTAL, RelyingParty
from tests.support.clock import FrozenClock
from tests.support.factories import CHEAP_PASSWORD

ISSUER = "http://127.0.0.1:5000"
PASSWORD = "Portal@2026"


class Sandbox:
    def __init__(self):
        self.app = None
        self.base, self.stop = run_server(self._wsgi)
        # The demo's own registration and provider tables (sandbox.portals.demo_config).
        self.app = create_sandbox(self.base, demo_clients(ISSUER))

    def _wsgi(self, environ, start_response):
        return self.app(environ, start_response)

    def account(self, portal: str, username: str):
        return self.app.extensions["sandbox"].accounts.get(portal, username)

    def fault(self, portal: str, **faults) -> None:
        self.app.config["SANDBOX_FAULTS"].setdefault(portal, {}).update(faults)


@pytest.fixture
def sandbox():
    box = Sandbox()
    yield box
    box.stop()


@pytest.fixture
def clock():
    """Real time, frozen: the sandbox signs its ID tokens with its wall clock."""
    return FrozenClock(datetime.now(timezone.utc))


@pytest.fixture
def settings(infra, sandbox):
    return make_settings(infra, password=CHEAP_PASSWORD, providers=provider_tables(sandbox.base))


@pytest.fixture
def cast(app, db, settings, clock):
    with transaction(db) as session:
        seed_cast(session, settings, clock)
        seed_demo_clients(session, settings, clock, portal_url=PORTAL)
    return db


class Browser:
    """The test client as one person's browser, plus their browser session at the portal."""

    def __init__(self, client):
        self.client = client
        self.portal_http = requests.Session()

    def start(self, provider_id: str, next_url: str | None = None):
        query = "?" + urlencode({"next": next_url}) if next_url else ""
        response = self.client.get(f"/federation/start/{provider_id}{query}")
        assert response.status_code == 303, response.get_data(as_text=True)
        return response.headers["Location"]

    def portal(self, upstream_url: str, username: str, password: str = PASSWORD) -> dict:
        return portal_login(upstream_url, username, password, session=self.portal_http)

    def callback(self, provider_id: str, params: dict):
        return self.client.get(f"/federation/callback/{provider_id}?" + urlencode(params))

    def login(self, provider_id: str, username: str, next_url: str | None = None):
        """The whole round trip: broker -> portal login -> broker callback."""
        return self.callback(provider_id, self.portal(self.start(provider_id, next_url), username))

    def post(self, path: str, data: dict | None = None, **kw):
        """A form POST with the session's CSRF token, as the page's form would send it."""
        with self.client.session_transaction() as s:
            s.setdefault("csrf", "test-csrf-token-0123456789")
            token = s["csrf"]
        return self.client.post(path, data={**(data or {}), "csrf_token": token}, **kw)


@pytest.fixture
def browser(client):
    return Browser(client)


def location(response) -> str:
    assert response.status_code in (302, 303), (response.status_code, response.get_data(as_text=True)[:2000])
    return response.headers["Location"]


def path_of(response) -> str:
    parts = urlsplit(location(response))
    return parts.path + (("?" + parts.query) if parts.query else "")


def account(db, username) -> Account | None:
    with db() as s:
        return s.scalar(select(Account).where(Account.username == username))


def identities(db, username=None) -> list[UpstreamIdentity]:
    with db() as s:
        q = select(UpstreamIdentity)
        if username:
            q = q.join(Account, Account.id == UpstreamIdentity.account_id).where(Account.username == username)
        return list(s.scalars(q.order_by(UpstreamIdentity.id)))


def last_login(db) -> LoginSession:
    with db() as s:
        return s.scalars(select(LoginSession).order_by(LoginSession.id.desc())).first()


def whoami(client) -> dict | None:
    response = client.get("/account", headers={"Accept": "application/json"})
    return response.get_json()["account"] if response.status_code == 200 else None


@pytest.fixture
def rp(client, cast, clock):
    def make(client_id):
        return RelyingParty(client, client_id, f"{client_id}-demo-secret", clock=clock)
    return make
