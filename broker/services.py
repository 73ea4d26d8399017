"""The collaborators built once per app: settings, database, Redis, clock."""
from __future__ import annotations

import dataclasses
import logging
import os
import secrets
import tempfile
from dataclasses import dataclass

import redis
from flask import Flask, current_app
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from binding.db import database_url, make_engine, make_read_engine, make_session_factory
from config import Clock, Settings, system_clock

from .storage import connect_redis

log = logging.getLogger("broker.services")
SECRET_KEY_FILE = "secret_key"


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    read_engine: Engine                    # for requests that only read (binding.db.make_read_engine)
    read_sessions: sessionmaker[Session]
    redis: redis.Redis
    clock: Clock
    instance_path: str

    def dispose(self) -> None:
        """Close the database connections (both engines)."""
        self.read_engine.dispose()
        self.engine.dispose()


def services_of(app: Flask) -> Services:
    """The collaborators of ``app`` (set by ``broker.app.create_app``)."""
    return app.extensions["tongxing"]


def services() -> Services:
    """The current app's collaborators, for code running in a request or app context."""
    return services_of(current_app)


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    instance_path = instance_folder(settings)
    settings = with_secret_key(settings, instance_path)
    engine = make_engine(database_url(settings.database_url, instance_path),
                         sqlite_synchronous=settings.sqlite_synchronous_mode)
    read_engine = make_read_engine(engine)
    return Services(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        read_engine=read_engine,
        read_sessions=make_session_factory(read_engine),
        redis=connect_redis(settings.redis_url, instance_path),
        clock=clock or system_clock,
        instance_path=instance_path,
    )


def instance_folder(settings: Settings) -> str:
    """THE instance folder of the app and the commands: ``BROKER_INSTANCE``, else
    ``./instance``; created when missing."""
    path = os.path.abspath(settings.instance_path or os.path.join(os.getcwd(), "instance"))
    os.makedirs(path, exist_ok=True)
    return path


def with_secret_key(settings: Settings, instance_path: str) -> Settings:
    """``settings`` with a secret key. Without ``SECRET_KEY`` (development and test only:
    production refuses to start without one) the key is generated once and kept in the
    instance folder, readable by its owner only (0600), so every worker process and every
    restart share it: cookies, code HMACs and lock subjects stay valid across them."""
    if settings.secret_key or settings.production:
        return settings
    return dataclasses.replace(settings, secret_key=_persisted_key(os.path.join(instance_path, SECRET_KEY_FILE)))


def _persisted_key(path: str) -> str:
    if not os.path.exists(path):
        # Written aside then linked into place: a concurrent worker either wins the link or
        # reads the complete winner, never a half-written file (link fails if it exists).
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".secret-")  # mode 0600
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
            os.link(tmp, path)
            log.info("generated a development secret key in the instance folder")
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    if os.stat(path).st_mode & 0o077:
        os.chmod(path, 0o600)
    with open(path, encoding="ascii") as fh:
        return fh.read().strip()
