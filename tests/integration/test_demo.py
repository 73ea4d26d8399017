"""``broker demo``: the cast of shared/DEMO.md, and the command itself."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from binding.accounts import build_account_service
from binding.db import transaction
from binding.models import Account, Enterprise, EnterpriseBinding, Membership
from broker.demo.seed import ACCOUNTS, seed_cast
from broker.demo.server import close_app, demo_settings, prepare
from config import ConfigError

BROKER = Path(sys.executable).with_name("broker")


@pytest.fixture
def seeded(db, settings, clock):
    with transaction(db) as session:
        seed_cast(session, settings, clock)
    return db


def _login(db, settings, redis_client, clock, identifier, password):
    with transaction(db) as session:
        service = build_account_service(session, settings=settings, redis=redis_client, clock=clock)
        account = service.login_password(identifier, password, captcha_passed=False)
        return account.username


def test_every_cast_member_signs_in_with_the_password_of_demo_md(seeded, settings, redis_client, clock):
    for member in ACCOUNTS:
        assert _login(seeded, settings, redis_client, clock, member.username, member.password) == member.username
    assert _login(seeded, settings, redis_client, clock, "13800138003", "Ls@demo2026") == "lisi"


def test_lisi_holds_the_certified_binding_of_a_and_administers_it(seeded):
    with seeded() as db:
        lisi = db.scalars(select(Account).where(Account.username == "lisi")).one()
        binding = db.scalars(select(EnterpriseBinding)).one()
        assert (binding.account_id, binding.source) == (lisi.id, "bj-yzt")
        assert (binding.enterprise.name, binding.enterprise.uscc) == ("北京示例科技有限公司", "91110108MA01BJ2K6M")
        roles = {(m.account.username, m.role, m.status) for m in db.scalars(select(Membership))}
        assert roles == {("lisi", "admin", "active"), ("wangwu", "sub_account", "pending")}
        assert lisi.kind == "enterprise" and lisi.phone_verified


def test_enterprises_staff_and_zhangsan_are_as_in_demo_md(seeded):
    with seeded() as db:
        units = {e.uscc: e for e in db.scalars(select(Enterprise))}
        assert set(units) == {"91110108MA01BJ2K6M", "91370600MA3YT0C83M", "91110105MA02CY7D8P",
                              "91110114MA04CP5F95"}
        assert units["91370600MA3YT0C83M"].region == "370600"
        assert [c["name"] for c in units["91110114MA04CP5F95"].categories] == ["专精特新中小企业"]
        accounts = {a.username: a for a in db.scalars(select(Account))}
        assert (accounts["reviewer-yt"].staff_role, accounts["reviewer-yt"].staff_region) == ("reviewer", "3706")
        assert (accounts["reviewer-bj"].staff_role, accounts["reviewer-bj"].staff_region) == ("reviewer", "11")
        assert accounts["support"].staff_role == "support"
        assert accounts["zhangsan"].kind == "personal"
        assert db.scalar(select(Membership).where(Membership.account_id == accounts["zhangsan"].id)) is None


def test_demo_refuses_production():
    with pytest.raises(ConfigError) as refused:
        demo_settings(5000, "/tmp/unused", environ={"BROKER_ENV": "production"})
    assert any(p.startswith("BROKER_DEMO:") for p in refused.value.problems)


def test_kept_instance_is_seeded_once(tmp_path):
    from broker import create_app

    settings = demo_settings(5000, str(tmp_path), environ={})
    for expected in (True, False):
        app = create_app(settings)
        try:
            assert prepare(app) is expected
        finally:
            close_app(app)


def _free_port() -> int:
    """Three consecutive free ports would be nicer; the demo only needs PORT with --no-portals."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _clean_env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("BROKER_") and k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
    env.update(extra)
    return env


def test_broker_demo_serves_the_login_page_and_stops_cleanly():
    port = _free_port()
    proc = subprocess.Popen([str(BROKER), "demo", "--port", str(port), "--no-portals"], env=_clean_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert _wait_for(proc, f"http://127.0.0.1:{port}/login") == 200
        outbox = urllib.request.urlopen(f"http://127.0.0.1:{port}/dev/outbox.json", timeout=5).read()
        assert b'"messages"' in outbox
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert f"http://127.0.0.1:{port}/login" in out and "lisi" in out and "Ls@demo2026" in out
    assert "demo stopped" in err
    instance = next(line.split("(", 1)[1].split(")", 1)[0] for line in out.splitlines() if "State:" in line)
    assert not os.path.exists(instance), "the temporary instance folder outlived the demo"


def test_broker_demo_with_production_env_exits_2_with_the_reason():
    result = subprocess.run([str(BROKER), "demo", "--port", str(_free_port())],
                            env=_clean_env(BROKER_ENV="production"), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "demo mode refuses to run with BROKER_ENV=production" in result.stderr
    assert "Traceback" not in result.stderr


def _wait_for(proc: subprocess.Popen, url: str, timeout: float = 60) -> int:
    """The status of ``url`` once the demo answers; fails with the demo's output if it died."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return urllib.request.urlopen(url, timeout=5).status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            if proc.poll() is not None:
                out, err = proc.communicate()
                pytest.fail(f"broker demo exited with {proc.returncode}:\n{out}\n{err}")
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
