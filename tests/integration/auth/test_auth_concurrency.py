"""Issue 2 "Lockout": 200 concurrent wrong-password requests against one account lead to
exactly 5 password checks. Real threads, a real HTTP server, the real Redis and database."""
import http.client
import json
import threading
from http.cookies import SimpleCookie

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from binding.models import AuditEvent

THREADS = 200


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join(timeout=10)


class Client:
    """One browser: its own connection, session cookie and CSRF token."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookie = ""

    def request(self, method, path, body=None, headers=None):
        headers = {"Accept": "application/json", **(headers or {})}
        if self.cookie:
            headers["Cookie"] = self.cookie
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=payload, headers=headers)
        response = self.conn.getresponse()
        data = json.loads(response.read() or b"{}")
        for value in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie(value)
            self.cookie = "; ".join(f"{k}={m.value}" for k, m in jar.items())
        return response.status, data


def test_200_concurrent_wrong_passwords_give_exactly_5_checks(app, live_server, account_named):
    account_named("target", "13900000061")
    barrier = threading.Barrier(THREADS)
    answers = [None] * THREADS

    def attack(i):
        client = Client(live_server)
        try:
            _, body = client.request("GET", "/login")
            token = body["csrf_token"]
            barrier.wait(timeout=120)
            status, body = client.request("POST", "/login", {"username": "target", "password": f"Wrong#{i}x"},
                                          {"X-CSRF-Token": token})
            answers[i] = (status, body.get("error"))
        finally:
            client.conn.close()

    threads = [threading.Thread(target=attack, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    errors = [a[1] if a else None for a in answers]
    assert errors.count("invalid_credentials") == 5, errors
    assert errors.count("account_locked") == 195, errors
    assert {a[0] for a in answers if a[1] == "account_locked"} == {423}
    with app.extensions["tongxing"].sessions() as db:
        checked = db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.event == "login.failed"))
    assert checked == 5
