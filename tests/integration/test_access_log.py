"""The access line (broker.logs.AccessLog): written straight to the root's JSON handler when that
is all it would meet (production), through ``logging`` otherwise, the same line either way."""
from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys

import pytest

from broker.logs import AccessLog, JsonFormatter
from tests.conftest import TEST_SECRET

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")


@pytest.fixture
def tree():
    """A logger tree of its own (pytest's capture handlers sit on the real root): a root with
    the JSON handler ``configure_logging`` installs, a ``broker`` logger, ``broker.access``."""
    root = logging.RootLogger(logging.INFO)
    broker = logging.Logger("broker")
    broker.parent = root
    access = logging.Logger("broker.access")
    access.parent = broker
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)

    class Tree:
        pass

    t = Tree()
    t.root, t.broker, t.access, t.stream, t.handler = root, broker, access, stream, handler
    t.lines = lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    return t


def _write(log: AccessLog, **extra) -> None:
    log.write("req-12345678", "POST", "/token", 200, duration_ms=1.25, **extra)


def test_the_direct_line_is_the_line_logging_writes(tree):
    log = AccessLog(tree.access)
    assert log._only_handler() is tree.handler   # production set-up: the direct write
    _write(log, upstream_ms=3.5, upstream_calls=2)
    tree.access.addHandler(logging.NullHandler())   # now through logging
    assert log._only_handler() is None
    _write(log, upstream_ms=3.5, upstream_calls=2)
    direct, through_logging = tree.lines()
    assert TS.match(direct.pop("ts")) and TS.match(through_logging.pop("ts"))
    assert direct == through_logging == {
        "level": "info", "logger": "broker.access", "msg": "POST /token 200", "request_id": "req-12345678",
        "status": 200, "method": "POST", "path": "/token", "duration_ms": 1.25, "upstream_ms": 3.5,
        "upstream_calls": 2}
    assert list(direct) == list(through_logging)   # same key order too


@pytest.mark.parametrize("change", [
    "second handler on the root", "filter on the access logger", "filter on the handler",
    "handler above INFO", "another formatter", "a FileHandler", "broker stops propagating"])
def test_anything_else_on_the_way_takes_the_logging_path(tree, change, tmp_path):
    seen = []
    if change == "second handler on the root":
        other = logging.Handler()
        other.emit = seen.append
        tree.root.addHandler(other)
    elif change == "filter on the access logger":
        tree.access.addFilter(lambda record: seen.append(record) or False)   # drops the line
    elif change == "filter on the handler":
        tree.handler.addFilter(lambda record: seen.append(record) or True)
    elif change == "handler above INFO":
        tree.handler.setLevel(logging.WARNING)
    elif change == "another formatter":
        tree.handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    elif change == "a FileHandler":
        tree.root.removeHandler(tree.handler)
        tree.handler = logging.FileHandler(tmp_path / "access.log")
        tree.handler.setFormatter(JsonFormatter())
        tree.root.addHandler(tree.handler)
    else:
        tree.broker.propagate = False
        tree.broker.addHandler(logging.StreamHandler(tree.stream))
        tree.broker.handlers[0].setFormatter(JsonFormatter())
    log = AccessLog(tree.access)
    assert log._only_handler() is None
    _write(log)
    written = tree.stream.getvalue()
    if change == "filter on the access logger":
        assert seen and written == ""
    elif change == "handler above INFO":
        assert written == ""
    elif change == "another formatter":
        assert written == "INFO POST /token 200\n"
    elif change == "a FileHandler":
        tree.handler.close()
        assert json.loads((tmp_path / "access.log").read_text())["path"] == "/token"
    else:
        assert json.loads(written)["request_id"] == "req-12345678"
    if change in ("second handler on the root", "filter on the handler"):
        assert len(seen) == 1 and seen[0].path == "/token"


def test_nothing_is_written_below_the_level(tree):
    tree.root.setLevel(logging.WARNING)
    _write(AccessLog(tree.access))
    assert tree.stream.getvalue() == ""


def test_a_broken_stream_does_not_fail_the_request(tree, capsys):
    class Broken(io.StringIO):
        def write(self, text):
            raise OSError("disk full")

    tree.handler.setStream(Broken())
    _write(AccessLog(tree.access))   # no exception: reported on stderr as logging reports it
    assert "disk full" in capsys.readouterr().err


_APP_SCRIPT = """
from broker import create_app
from broker.app import access_log
app = create_app()
print("direct" if access_log._only_handler() is not None else "through logging")
app.test_client().get("/healthz", headers={"X-Request-Id": "trace-access-0001"})
"""


def test_the_app_as_deployed_writes_its_access_lines_directly(infra):
    """The app's own set-up (no pytest on the root logger): one line per request, direct."""
    env = {**os.environ, "DATABASE_URL": infra["database_url"], "REDIS_URL": infra["redis_url"],
           "BROKER_INSTANCE": infra["instance"], "SECRET_KEY": TEST_SECRET, "BROKER_ENV": "test"}
    env.pop("BROKER_CONFIG", None)
    done = subprocess.run([sys.executable, "-c", _APP_SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "direct"
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("request_id") == "trace-access-0001"]
    assert [(a["logger"], a["method"], a["path"], a["status"]) for a in access] == [
        ("broker.access", "GET", "/healthz", 200)]
    assert TS.match(access[0]["ts"]) and access[0]["duration_ms"] >= 0
