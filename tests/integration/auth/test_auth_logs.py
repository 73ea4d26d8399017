"""JSON log lines (issue 2: "JSON logs with a request id"; README: passwords, codes and tokens
are never logged): every line is JSON, requests carry their id, echoed in X-Request-Id."""
from __future__ import annotations

import io
import json
import logging

import pytest

from broker.logs import JsonFormatter


@pytest.fixture
def log_lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)   # everything any part logs, not only the access lines
    yield lambda: [line for line in stream.getvalue().splitlines() if line]
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_login_and_code_flow_logs_json_with_request_ids_and_no_secrets(user, log_lines):
    secrets_seen = [user.PASSWORD, "Wrong#Pass99"]
    assert user.register("xiu", "13900000041").status_code == 201
    assert user.login("xiu", "Wrong#Pass99").status_code == 401
    user.logout()
    assert user.login_sms("13900000041").status_code == 200
    secrets_seen.append(user.latest_code("13900000041"))
    answer = user.client.get("/account", headers={**user.JSON, "X-Request-Id": "trace-abc-12345"})
    session_cookie = user.client.get_cookie(user.app.config["SESSION_COOKIE_NAME"]).value

    records = [json.loads(line) for line in log_lines()]   # every line parses as JSON
    access = [r for r in records if r["logger"] == "broker.access"]
    assert len(access) >= 8 and all(len(r.get("request_id", "")) >= 8 for r in access)
    assert answer.headers["X-Request-Id"] == "trace-abc-12345"   # the caller's id is kept and echoed
    assert access[-1]["request_id"] == "trace-abc-12345" and access[-1]["path"] == "/account"
    login = user.client.get("/login", headers=user.JSON)
    assert json.loads(log_lines()[-1])["request_id"] == login.headers["X-Request-Id"]
    text = "\n".join(log_lines())
    for secret in [*secrets_seen, session_cookie, login.json["csrf_token"]]:
        assert secret not in text
