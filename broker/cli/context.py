"""What the commands share: settings, the database engine, and the app's collaborators."""
from __future__ import annotations

import os

from sqlalchemy.engine import Engine

from binding.db import database_url, make_engine
from config import Settings, load_settings


def settings_from_environment() -> Settings:
    """Settings from the environment and ``BROKER_CONFIG``; raises ConfigError listing every problem."""
    return load_settings()


def instance_path(settings: Settings) -> str:
    """The instance folder, as the app computes it (``BROKER_INSTANCE`` or ./instance)."""
    path = settings.instance_path or os.path.join(os.getcwd(), "instance")
    os.makedirs(path, exist_ok=True)
    return path


def engine_for(settings: Settings) -> Engine:
    """An engine on the configured database (SQLite in the instance folder by default)."""
    return make_engine(database_url(settings.database_url, instance_path(settings)))
