"""Configuration checked once with every problem together (issue 2): the core settings, the
``[oidc]`` / ``[[clients]]`` tables and the ``[[providers]]`` tables, by ``create_app`` and by
``broker config check`` alike."""
from __future__ import annotations

import dataclasses

import pytest
from click.testing import CliRunner
from sqlalchemy.exc import IntegrityError

from binding.db import transaction
from binding.models import Account
from broker import create_app
from broker.cli import main
from config import ConfigError
from tests.conftest import TEST_SECRET

CONFIG = """
log_level = "LOUD"
isuer = "https://sso.example.cn"
[lockuot]
max_failures = 3
[oidc]
code_ttl_seconds = 6000
[[clients]]
client_id = "portal"
redirect_uris = ["https://portal.example.cn/cb"]
[[providers]]
id = "sd-portal"
type = "carrier-pigeon"
"""


def _names(problems: list[str]) -> list[str]:
    return [p.split(":")[0] for p in problems]


def test_broker_config_check_lists_the_problems_of_every_part_together(tmp_path):
    path = tmp_path / "broker.toml"
    path.write_text(CONFIG, encoding="utf-8")
    env = {"BROKER_CONFIG": str(path), "SECRET_KEY": TEST_SECRET, "BROKER_ENV": "test",
           "BROKER_INSTANCE": str(tmp_path), "BROKER_TRUSTED_PROXIES": "many"}
    result = CliRunner().invoke(main, ["config", "check"], env=env)
    assert result.exit_code == 2, result.output
    for expected in ("BROKER_LOG_LEVEL", "isuer: unknown setting", "[lockuot]: unknown section",
                     "BROKER_TRUSTED_PROXIES", "oidc.code_ttl_seconds", "clients[0].secret",
                     "sd-portal", "carrier-pigeon"):
        assert expected in result.output, f"{expected} missing from:\n{result.output}"
    assert "Traceback" not in result.output


def test_create_app_raises_one_error_with_every_table_problem(settings):
    bad = dataclasses.replace(settings, extra={
        "oidc": {"default_alg": "HS256", "surprise": 1},
        "clients": [{"client_id": "portal", "redirect_uris": ["https://portal.example.cn/cb"]}],
        "providers": [{"id": "p1", "type": "nope"}],
    })
    with pytest.raises(ConfigError) as caught:
        create_app(bad)
    problems = caught.value.problems
    assert "oidc.default_alg" in _names(problems) and "oidc.surprise" in _names(problems)
    assert "clients[0].secret" in _names(problems)               # checked although [oidc] is bad
    assert any("p1" in p and "type" in p for p in problems)
    assert len(problems) == len(set(problems))                    # each said once


def test_a_good_configuration_passes_the_check(tmp_path):
    env = {"SECRET_KEY": TEST_SECRET, "BROKER_ENV": "test", "BROKER_INSTANCE": str(tmp_path), "BROKER_CONFIG": None}
    result = CliRunner().invoke(main, ["config", "check"], env=env)
    assert result.exit_code == 0 and "configuration ok" in result.output


def test_database_errors_never_carry_the_values(db):
    """hide_parameters: an error text (which may reach a log) does not carry the statement's values.

    (PostgreSQL's own DETAIL line names the duplicated key itself; that is the server's text,
    not our parameters, so only the values that were not part of the conflict are checked.)"""
    with transaction(db) as session:
        session.add(Account(username="a1", phone="13900000051", kind="personal", password_hash="secret-hash-1",
                            created_at=_now()))
    with pytest.raises(IntegrityError) as caught, transaction(db) as session:
        session.add(Account(username="a2", phone="13900000051", kind="personal", password_hash="secret-hash-2",
                            created_at=_now()))
    text = str(caught.value)
    assert "secret-hash-2" not in text and "a2" not in text.split("[SQL:")[-1] and "hidden" in text


def _now():
    from config import system_clock

    return system_clock()
