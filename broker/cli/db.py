"""``broker db upgrade`` / ``broker db current``: the schema, through Alembic.
``broker db purge``: delete expired codes, tokens, sessions and old outbox rows (``binding.purge``)."""
from __future__ import annotations

from datetime import timedelta

import click

from binding import migrate
from config import system_clock

from .context import engine_for, run_in_transaction, settings_from_environment


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


@db_group.command("purge")
@click.option("--older-than-days", default=30, show_default=True, type=click.IntRange(min=0),
              help="Keep ended login sessions and outbox messages this many days.")
def purge(older_than_days: int) -> None:
    """Delete expired authorization codes, grants (with their tokens) past their absolute life,
    login sessions revoked or expired more than N days ago, and outbox messages older than N
    days. The audit trail is kept."""
    from binding.purge import purge as purge_rows

    purged = run_in_transaction(lambda db, settings: purge_rows(
        db, system_clock, timedelta(days=older_than_days), actor="cli"))
    click.echo(f"purged: {purged.codes} code(s), {purged.grants} grant(s) with {purged.tokens} token(s), "
               f"{purged.login_sessions} login session(s), {purged.outbox} outbox message(s)")


COMMANDS = [db_group]
