"""``broker db upgrade`` / ``broker db current``: the schema, through Alembic."""
from __future__ import annotations

import click

from binding import migrate

from .context import engine_for, settings_from_environment


@click.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def upgrade(revision: str) -> None:
    """Bring the configured database's schema up to REVISION."""
    engine = engine_for(settings_from_environment())
    try:
        migrate.upgrade(engine, revision)
        click.echo(f"database at revision {migrate.current(engine) or '(empty)'}")
    finally:
        engine.dispose()


@db_group.command("current")
def current() -> None:
    """Print the schema revision of the configured database."""
    engine = engine_for(settings_from_environment())
    try:
        click.echo(migrate.current(engine) or "(no schema: run `broker db upgrade`)")
    finally:
        engine.dispose()


COMMANDS = [db_group]
