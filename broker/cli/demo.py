"""``broker demo``: the broker, the sandbox portals and the demo portals with the cast of DEMO.md."""
from __future__ import annotations

import click


@click.command("demo")
@click.option("--port", "-p", default=5000, show_default=True, type=click.IntRange(1, 65533),
              help="Broker port; the sandbox portals use PORT+1, the demo portals PORT+2.")
@click.option("--instance", type=click.Path(file_okay=False),
              help="Keep state in this folder between runs (seeded only when empty). "
                   "Default: a fresh temporary folder each run.")
@click.option("--no-portals", is_flag=True, help="Serve the broker only.")
def demo(port: int, instance: str | None, no_portals: bool) -> None:
    """Run a seeded demo on 127.0.0.1 (refused with BROKER_ENV=production)."""
    from broker.demo.server import run_demo

    run_demo(port=port, instance=instance, portals=not no_portals)


COMMANDS = [demo]
