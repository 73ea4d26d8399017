"""``broker config check`` and ``broker config reference`` (the README's settings table)."""
from __future__ import annotations

import click

from .context import settings_from_environment
from .reference import reference_markdown


@click.group("config")
def config_group() -> None:
    """Settings: check them, or print the reference table."""


@config_group.command("check")
def check() -> None:
    """Validate the settings from the environment and BROKER_CONFIG (problems exit 2)."""
    settings = settings_from_environment()
    click.echo(f"configuration ok (env={settings.env}, issuer={settings.issuer})")


@config_group.command("reference")
def reference() -> None:
    """Print every setting as a Markdown table (env variable, TOML key, default, meaning)."""
    click.echo(reference_markdown())


COMMANDS = [config_group]
