"""The sandbox portals on a real HTTP server, one per test (faults, used codes and rotated keys
never leak between tests), and adapters built from the operator's TOML."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

import pytest
import requests

from providers.registry import build_providers
from sandbox.portals import create_sandbox
from sandbox.testing import portal_login, run_server
from tests.contract.cases import CASES, CLIENT_ID, CLIENT_SECRET, PASSWORD, Case, callback_url
from tests.support.clock import FrozenClock


@dataclass
class Sandbox:
    base: str
    app: Any
    stop: Callable[[], None]
    # path -> function(body bytes) -> body bytes: rewrites a portal's answer in flight, for the
    # few faults the sandbox has no switch for (a broken signature under a known kid).
    rewrite: dict[str, Callable[[bytes], bytes]] = field(default_factory=dict)

    def fault(self, portal: str, **faults: Any) -> None:
        self.app.config["SANDBOX_FAULTS"].setdefault(portal, {}).update(faults)


def _rewriting(box: Sandbox):
    def wsgi(environ, start_response):
        rewrite = box.rewrite.get(environ.get("PATH_INFO", ""))
        if rewrite is None:
            return box.app(environ, start_response)
        captured: dict[str, Any] = {}

        def capture(status, headers, exc_info=None):
            captured.update(status=status, headers=headers)

        body = rewrite(b"".join(box.app(environ, capture)))
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], headers + [("Content-Length", str(len(body)))])
        return [body]

    return wsgi


@pytest.fixture
def sandbox():
    box = Sandbox("", None, lambda: None)
    # The sandbox must know its own URL, which exists only once the server has a port.
    base, stop = run_server(_rewriting(box))
    box.base, box.stop = base, stop
    clients = [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                "redirect_uris": [callback_url(case.id) for case in CASES]}]
    box.app = create_sandbox(base, clients)
    box.app.config["SANDBOX_FAULTS"] = {}
    yield box
    stop()


@pytest.fixture
def clock():
    """Real time, frozen: the sandbox signs ID tokens with its wall clock."""
    return FrozenClock(datetime.now(timezone.utc))


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


def build(case: Case, base: str, http, clock, **overrides):
    table = {**case.tables(base)[0], **overrides}
    return build_providers([table], http=http, clock=clock)[case.id]


def login(adapter, case: Case, username: str | None = None, state: str = "state-0123456789"):
    """A browser login at the portal: (opaque, callback params)."""
    start = adapter.login_url(callback_url(case.id), state)
    params = portal_login(start.url, username or case.username, PASSWORD, session=requests.Session())
    return start.opaque, params


def body_json(change: Callable[[dict], None]) -> Callable[[bytes], bytes]:
    def rewrite(body: bytes) -> bytes:
        data = json.loads(body)
        change(data)
        return json.dumps(data).encode()
    return rewrite
