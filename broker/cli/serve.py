"""``broker serve``: the broker under gunicorn (production). Same as ``gunicorn 'broker.wsgi:app'``."""
from __future__ import annotations

import os

import click

from ..services import instance_folder
from .context import settings_from_environment


@click.command("serve")
@click.option("--bind", "-b", default="127.0.0.1:8000", show_default=True, help="host:port to listen on.")
@click.option("--workers", "-w", default=lambda: min(2 * (os.cpu_count() or 1) + 1, 8), type=int,
              help="Worker processes (default: 2 x CPUs + 1, at most 8).")
@click.option("--threads", default=4, show_default=True, type=int,
              help="Threads per worker: above 1 gunicorn's gthread worker (HTTP keep-alive), 1 its sync worker.")
def serve(bind: str, workers: int, threads: int) -> None:
    """Serve the broker with gunicorn; settings are checked first (problems exit 2).

    Threads by default (README "Performance"): the sync worker closes every connection and waits
    for the client's FIN (``close_graceful``, 62% of a /healthz profile); gthread keeps
    connections alive and overlaps the waits on Redis and the database (/healthz 801 -> 2474/s)."""
    settings = settings_from_environment()
    from gunicorn.app.base import BaseApplication

    from ..storage import connect_redis

    # Without REDIS_URL: start the embedded Redis before forking, so every worker joins this one
    # server instead of racing to start its own (lock counts must live in one place).
    embedded = None if settings.redis_url else connect_redis("", instance_folder(settings))

    class _Gunicorn(BaseApplication):
        def load_config(self):
            for key, value in {"bind": bind, "workers": workers, "threads": threads,
                               "worker_class": "gthread" if threads > 1 else "sync", "keepalive": 5,
                               "accesslog": None, "forwarded_allow_ips": "127.0.0.1"}.items():
                self.cfg.set(key, value)

        def load(self):
            # Each worker builds its own app: engines and Redis clients are not shared across fork.
            from broker import create_app

            return create_app(settings)

    try:
        _Gunicorn().run()
    finally:
        if embedded is not None:
            embedded._cleanup()


COMMANDS = [serve]
