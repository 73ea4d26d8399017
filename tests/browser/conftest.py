"""Real Chromium (Debian ``chromium``) driving a live broker.

Without Chromium the browser tests are skipped with a visible notice; with ``CI=true`` they fail
instead, so CI can never pass without running them.
"""
from __future__ import annotations

import os
import re
import shutil
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from binding.models import OutboxMessage
from broker import create_app
from tests.conftest import make_settings

HERE = Path(__file__).resolve().parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SKIP_NOTICE = "browser tests SKIPPED: no Chromium found (install Debian `chromium`)"
DEMO_CAPTCHA = "DEMO"
PHONE_VIEWPORT = {"width": 390, "height": 844}


def find_chromium() -> str | None:
    """``$TONGXING_CHROMIUM`` if set (a path; an empty or missing one means none), else
    /usr/bin/chromium, else ``chromium`` on PATH."""
    if "TONGXING_CHROMIUM" in os.environ:
        path = os.environ["TONGXING_CHROMIUM"]
        return path if path and os.access(path, os.X_OK) else None
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def pytest_collection_modifyitems(config, items):
    """Mark every test of this folder ``browser`` (select with ``-m browser`` / ``-m 'not browser'``)."""
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


def pytest_report_header(config):
    return f"chromium: {find_chromium() or 'not found: browser tests will be skipped'}"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if config.stash.get(_skipped_key, False):
        terminalreporter.write_sep("!", SKIP_NOTICE, yellow=True, bold=True)


_skipped_key = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def chromium_path(pytestconfig) -> str:
    path = find_chromium()
    if path is None:
        if _under_ci():
            pytest.fail("CI=true but no Chromium found ($TONGXING_CHROMIUM, /usr/bin/chromium, PATH): "
                        "browser tests must run under CI (apt-get install chromium)", pytrace=False)
        pytestconfig.stash[_skipped_key] = True
        pytest.skip(SKIP_NOTICE)
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context_options() -> dict:
    """Options of the test's browser context; override (e.g. ``PHONE_VIEWPORT``) per test."""
    return {}


@pytest.fixture
def page(browser, context_options):
    """A page in a fresh context (no cookies shared between tests), Chinese locale by default."""
    context = browser.new_context(**{"locale": "zh-CN", **context_options})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):
    """A page sized like a phone (390 x 844, touch, mobile)."""
    context = browser.new_context(locale="zh-CN", viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True,
                                  device_scale_factor=3)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


class LiveBroker:
    """A broker served by werkzeug in a thread: ``url``, ``app``, and the outbox a person would read."""

    def __init__(self, url: str, app):
        self.url = url
        self.app = app

    def __call__(self, path: str = "/") -> str:
        return self.url + path

    def latest_code(self, phone: str, *, after_id: int = 0, timeout: float = 5.0) -> str:
        """The code in the newest SMS to ``phone`` (newer than ``after_id``), from the outbox table."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.latest_message(phone)
            if message is not None and message.id > after_id:
                found = re.search(r"\b(\d{4,8})\b", message.body)
                assert found, f"no code in SMS {message.body!r}"
                return found.group(1)
            if time.monotonic() > deadline:
                raise AssertionError(f"no SMS to {phone} in the outbox")
            time.sleep(0.1)

    def latest_message(self, phone: str) -> OutboxMessage | None:
        with self.app.extensions["tongxing"].sessions() as db:
            return db.scalars(select(OutboxMessage).where(OutboxMessage.recipient == phone)
                              .order_by(OutboxMessage.id.desc()).limit(1)).first()

    def outbox_code_from_page(self, page, phone: str) -> str:
        """The newest code for ``phone`` as a person would read it: /dev/outbox.json (demo mode)."""
        data = page.request.get(self("/dev/outbox.json")).json()
        for message in data["messages"]:  # newest first
            if message["recipient"] == phone:
                return re.search(r"\b(\d{4,8})\b", message["body"]).group(1)
        raise AssertionError(f"no SMS to {phone} in /dev/outbox.json")


@pytest.fixture
def live_broker(infra, engine):
    """The broker in demo mode (image captcha ``DEMO``), on a free port, wiped after the test.

    The send interval per phone is 1 s instead of 60 s so one test can register and then reset
    the password of the same phone without sleeping a minute."""
    server = make_server("127.0.0.1", 0, lambda environ, start_response: [], threaded=True)
    port = server.server_port
    settings = make_settings(infra, demo=True, demo_captcha=DEMO_CAPTCHA, issuer=f"http://127.0.0.1:{port}",
                             codes={"send_interval_seconds": 1})
    app = create_app(settings)
    server.app = app  # the port is known only once the socket is bound; the issuer needs it
    thread = threading.Thread(target=server.serve_forever, name="live-broker", daemon=True)
    thread.start()
    try:
        yield LiveBroker(f"http://127.0.0.1:{port}", app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        app.extensions["tongxing"].dispose()


@pytest.fixture(autouse=True)
def _needs_chromium(chromium_path):
    """Skip (or, under CI, fail) before any server starts when Chromium is missing."""
