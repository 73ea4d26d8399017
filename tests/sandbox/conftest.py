"""A sandbox server on a free loopback port per test, with one registered client."""
from __future__ import annotations

import pytest
import requests

from sandbox.portals import create_sandbox
from sandbox.testing import run_server

CLIENT_ID = "tongxing"
SECRET = "tongxing-sandbox-secret"
CALLBACK = "http://127.0.0.1:5999/federation/callback/{}"


class Sandbox:
    def __init__(self, app, url):
        self.app = app
        self.url = url

    def faults(self, portal: str) -> dict:
        return self.app.config["SANDBOX_FAULTS"].setdefault(portal, {})


@pytest.fixture
def sandbox():
    # The app needs its base URL before it serves, so reserve the port by serving a stub first.
    holder = {}

    def dispatch(environ, start_response):
        return holder["app"](environ, start_response)

    url, stop = run_server(dispatch)
    ids = ("sd-portal", "bj-yzt", "miit", "wechat", "qq", "weibo")
    holder["app"] = create_sandbox(url, [{"client_id": CLIENT_ID, "client_secret": SECRET,
                                          "redirect_uris": [CALLBACK.format(p) for p in ids]}])
    yield Sandbox(holder["app"], url)
    stop()


@pytest.fixture
def http():
    with requests.Session() as s:
        yield s
