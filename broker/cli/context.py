"""What the commands share: settings, the database engine, and the app's collaborators."""
from __future__ import annotations

from sqlalchemy.engine import Engine

from binding.db import database_url, make_engine
from config import Settings

from ..config_check import load_checked_settings
from ..services import instance_folder, with_secret_key

# The instance folder, computed exactly as the app does (one function: broker.services).
instance_path = instance_folder


def settings_from_environment() -> Settings:
    """Settings from the environment and ``BROKER_CONFIG``, every part checked (ConfigError
    lists every problem), with the app's secret key (the instance folder's in development)."""
    settings = load_checked_settings()
    return with_secret_key(settings, instance_folder(settings))


def engine_for(settings: Settings) -> Engine:
    """An engine on the configured database (SQLite in the instance folder by default)."""
    return make_engine(database_url(settings.database_url, instance_folder(settings)))
