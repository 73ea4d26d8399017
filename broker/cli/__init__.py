"""The ``broker`` command line (console script ``broker = broker.cli:main``).

Each command lives in a small module of this package that exposes ``COMMANDS`` (a list of
click commands or groups); ``main`` adds them all. Settings come from
``broker.config_check.load_checked_settings()`` (environment + the TOML file named by
``BROKER_CONFIG``, every part checked; see ``broker.cli.context``); a configuration problem anywhere
prints every problem and exits with status 2, without a traceback.
"""
from __future__ import annotations

import importlib
import sys

import click

from config import ConfigError

# Modules whose COMMANDS are added to ``broker``. Later features append their module here:
# helper D (issue 3, OIDC provider) adds "broker.cli.oidc" (the `clients` and `keys` groups).
COMMAND_MODULES = [
    "broker.cli.db",
    "broker.cli.users",
    "broker.cli.demo",
    "broker.cli.serve",
    "broker.cli.config_cmd",
    "broker.cli.oidc",
]

CONFIG_ERROR_EXIT = 2


class BrokerGroup(click.Group):
    """A group that turns a ConfigError raised by any command into a clean list and exit 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            report_config_error(exc)
            ctx.exit(CONFIG_ERROR_EXIT)


def report_config_error(exc: ConfigError) -> None:
    click.echo("broker: invalid configuration:", err=True)
    for problem in exc.problems:
        click.echo(f"  - {problem}", err=True)


@click.group(cls=BrokerGroup)
@click.version_option(package_name="tongxing", prog_name="broker")
def main() -> None:
    """Tongxing (通行): identity federation and account-binding broker."""


def _add_commands(group: click.Group) -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        for command in module.COMMANDS:
            group.add_command(command)


_add_commands(main)

__all__ = ["COMMAND_MODULES", "CONFIG_ERROR_EXIT", "main", "report_config_error"]

if __name__ == "__main__":  # pragma: no cover - `python -m broker.cli`
    sys.exit(main())
