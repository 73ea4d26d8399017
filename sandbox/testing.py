"""Helpers for tests that need the sandbox portals over real HTTP: ``run_server`` serves a WSGI
app on a free loopback port; ``portal_login`` signs in at an upstream portal the way a person
would (following its redirects and posting its HTML login form) and stops at the redirect back
to the client, whose query parameters it returns."""
from __future__ import annotations

import threading
from typing import Callable
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import requests
from werkzeug.serving import make_server

CALLBACK_PARAMS = ("code", "ticket", "error")


def run_server(app) -> tuple[str, Callable[[], None]]:
    """Serve ``app`` on http://127.0.0.1:<free port> in a daemon thread; returns
    ``(base_url, stop)``."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return f"http://127.0.0.1:{server.server_port}", stop


class _LoginForm(HTMLParser):
    """The form holding a password field: its action and every input's name/value."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                               "fields": {}, "password": False})
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1]["fields"][a["name"]] = a.get("value") or ""
            self.forms[-1]["password"] |= a.get("type") == "password"


class _Text(HTMLParser):
    """The visible text of a page (no styles or scripts), for failure messages."""

    def __init__(self):
        super().__init__()
        self.chunks: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("style", "script")

    def handle_endtag(self, tag):
        self._skip -= tag in ("style", "script")

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.chunks.append(data.strip())


def _text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.chunks)


def portal_login(start_url: str, username: str, password: str, session: requests.Session | None = None,
                 max_steps: int = 12) -> dict:
    """Follow redirects from ``start_url`` (a broker login link or an upstream authorize URL),
    post the portal's login form with ``username``/``password`` and return the query parameters
    of the redirect that carries ``code``, ``ticket`` or ``error`` back to the client (not
    followed). Raises AssertionError with the page text when the login does not get there."""
    http = session or requests.Session()
    response = http.get(start_url, allow_redirects=False, timeout=10)
    posted = False
    for _ in range(max_steps):
        if response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            params = dict(parse_qsl(urlsplit(target).query))
            if any(p in params for p in CALLBACK_PARAMS):
                return params
            response = http.get(target, allow_redirects=False, timeout=10)
            continue
        parser = _LoginForm()
        parser.feed(response.text)
        form = next((f for f in parser.forms if f["password"]), None)
        if form is None or posted:
            raise AssertionError(f"portal login did not reach the callback ({response.status_code} "
                                 f"{response.url}): {_text(response.text)[:800]}")
        fields = dict(form["fields"], username=username, password=password)
        response = http.post(urljoin(response.url, form["action"]), data=fields, allow_redirects=False, timeout=10)
        posted = True
    raise AssertionError(f"portal login: too many redirects from {start_url}")
