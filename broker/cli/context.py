"""What the commands share: settings, the database engine, one transaction, and how a
refusal is reported. The instance folder is ``broker.services.instance_folder``, as in the app."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

import click
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from binding.db import database_url, make_engine, make_session_factory, transaction
from binding.errors import DomainError
from config import Settings

from ..config_check import load_checked_settings
from ..services import instance_folder, with_secret_key

T = TypeVar("T")


def settings_from_environment() -> Settings:
    """Settings from the environment and ``BROKER_CONFIG``, every part checked (ConfigError
    lists every problem), with the app's secret key (the instance folder's in development)."""
    settings = load_checked_settings()
    return with_secret_key(settings, instance_folder(settings))


def engine_for(settings: Settings) -> Engine:
    """An engine on the configured database (SQLite in the instance folder by default)."""
    return make_engine(database_url(settings.database_url, instance_folder(settings)),
                       sqlite_synchronous=settings.sqlite_synchronous_mode)


@contextmanager
def domain_errors() -> Iterator[None]:
    """A refusal of the domain (``DomainError``) exits 1 with its message in both languages and
    its stable code, without a traceback."""
    try:
        yield
    except DomainError as exc:
        raise click.ClickException(f"{exc.en} ({exc.zh}) [{exc.code}]") from None


def run_in_transaction(build: Callable[[Session, Settings], T]) -> T:
    """``build(db, settings)`` in one transaction on the configured database (committed when it
    returns, rolled back when it raises); a refusal exits 1 (``domain_errors``)."""
    settings = settings_from_environment()
    engine = engine_for(settings)
    try:
        with domain_errors(), transaction(make_session_factory(engine)) as db:
            return build(db, settings)
    finally:
        engine.dispose()
