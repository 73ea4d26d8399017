"""``broker config check`` and ``broker config reference`` (the README's settings table)."""
from __future__ import annotations

import click

from ..config_check import load_checked_settings
from .reference import reference_markdown


@click.group("config")
def config_group() -> None:
    """Settings: check them, or print the reference table."""


@config_group.command("check")
def check() -> None:
    """Validate the settings, [oidc], [[clients]] and [[providers]] from the environment and
    BROKER_CONFIG, as the app does at start-up (every problem listed, exit 2)."""
    settings = load_checked_settings()
    click.echo(f"configuration ok (env={settings.env}, issuer={settings.issuer})")


@config_group.command("reference")
def reference() -> None:
    """Print every setting as a Markdown table (env variable, TOML key, default, meaning)."""
    click.echo(reference_markdown())


COMMANDS = [config_group]
