"""The collaborators built once per app: settings, database, Redis, clock."""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

import redis
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from binding.db import database_url, make_engine, make_session_factory
from config import Clock, Settings, system_clock

from .storage import connect_redis


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    redis: redis.Redis
    clock: Clock
    instance_path: str


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    instance_path = settings.instance_path or os.path.join(os.getcwd(), "instance")
    os.makedirs(instance_path, exist_ok=True)
    engine = make_engine(database_url(settings.database_url, instance_path))
    return Services(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        redis=connect_redis(settings.redis_url, instance_path),
        clock=clock or system_clock,
        instance_path=instance_path,
    )


def temporary_instance() -> str:
    return tempfile.mkdtemp(prefix="tongxing-")
