"""Fixtures and user actions for the local-account pages.

The app runs in demo mode with BROKER_DEMO_CAPTCHA="TEST" so the image captcha can be passed;
SMS codes are read from the outbox table, the way a user reads their phone."""
from __future__ import annotations

import re
import pytest
from sqlalchemy import func, select

from binding.models import Account, OutboxMessage
from tests.conftest import make_settings

JSON = {"Accept": "application/json"}
CAPTCHA = "TEST"
PASSWORD = "Secret#2026x"


@pytest.fixture
def settings(infra):
    return make_settings(infra, demo=True, demo_captcha=CAPTCHA)


class Actions:
    """What a user (or a program) does with the pages, through one test client."""

    def __init__(self, app, client, clock):
        self.app = app
        self.client = client
        self.clock = clock

    JSON = JSON
    CAPTCHA = CAPTCHA
    PASSWORD = PASSWORD

    # -- plumbing
    def csrf(self, path: str = "/login") -> str:
        return self.client.get(path, headers=JSON).json["csrf_token"]

    def post_json(self, path: str, body: dict, token: str | None = None):
        token = self.csrf(path.split("?")[0]) if token is None else token
        return self.client.post(path, json=body, headers={**JSON, "X-CSRF-Token": token})

    def post_form(self, path: str, data: dict, follow: bool = False):
        """Submit the page's form as a browser does: the hidden csrf_token comes from the page."""
        page = self.client.get(path)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
        return self.client.post(path, data={"csrf_token": token, **data}, follow_redirects=follow)

    # -- codes
    def send_code(self, path: str, phone: str, captcha: str = CAPTCHA):
        # The send interval is per phone: step past it so a test can ask twice.
        self.clock.advance(61)
        return self.post_json(path, {"action": "send_code", "phone": phone, "captcha": captcha})

    def latest_code(self, phone: str) -> str | None:
        with self.app.extensions["tongxing"].sessions() as db:
            body = db.scalars(select(OutboxMessage.body).where(OutboxMessage.recipient == phone)
                              .order_by(OutboxMessage.id.desc())).first()
        return re.search(r"\b(\d{6})\b", body).group(1) if body else None

    # -- flows
    def register(self, username: str, phone: str, password: str = PASSWORD, kind: str = "personal"):
        assert self.send_code("/register", phone).status_code == 200
        return self.post_json("/register", {"phone": phone, "code": self.latest_code(phone),
                                            "username": username, "password": password, "kind": kind})

    def login(self, identifier: str, password: str = PASSWORD, **extra):
        return self.post_json("/login", {"username": identifier, "password": password, **extra})

    def login_sms(self, phone: str):
        assert self.send_code("/login?tab=sms", phone).status_code == 200
        return self.post_json("/login?tab=sms", {"tab": "sms", "phone": phone, "code": self.latest_code(phone)})

    def logout(self):
        return self.client.post("/logout", headers={**JSON, "X-CSRF-Token": self.account_json()["csrf_token"]})

    def account_json(self):
        return self.client.get("/account", headers=JSON).json

    def count_accounts(self) -> int:
        with self.app.extensions["tongxing"].sessions() as db:
            return db.scalar(select(func.count()).select_from(Account))

    def outbox_count(self) -> int:
        with self.app.extensions["tongxing"].sessions() as db:
            return db.scalar(select(func.count()).select_from(OutboxMessage))

    def signed_in_as(self) -> str | None:
        response = self.client.get("/account", headers=JSON)
        return response.json["account"]["username"] if response.status_code == 200 else None


@pytest.fixture
def user(app, client, clock):
    return Actions(app, client, clock)


@pytest.fixture
def browser(app, clock):
    """Another browser, with cookies of its own."""
    return lambda: Actions(app, app.test_client(), clock)


@pytest.fixture
def account_named(app, clock):
    """Register an account from a separate browser (the test's client stays signed out)."""

    def make(username: str, phone: str, password: str = PASSWORD, kind: str = "personal"):
        response = Actions(app, app.test_client(), clock).register(username, phone, password, kind)
        assert response.status_code == 201, response.json
        return response.json["account"]

    return make


@pytest.fixture
def make_app(infra, clock, engine):
    """An app with other settings (e.g. outside demo mode); wiped like the default one."""
    made = []

    def build(**overrides):
        from broker import create_app

        app = create_app(make_settings(infra, **overrides), clock=clock)
        app.config["TESTING"] = True
        made.append(app)
        return Actions(app, app.test_client(), clock)

    yield build
    for app in made:
        app.extensions["tongxing"].dispose()
