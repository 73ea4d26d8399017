"""The WSGI entry point for production: ``gunicorn 'broker.wsgi:app'``.

Settings come from the environment and ``BROKER_CONFIG``; a bad configuration prints every
problem and stops the server from booting.
"""
from __future__ import annotations

import sys

from config import ConfigError

from . import create_app

try:
    app = create_app()
except ConfigError as exc:
    print("broker: invalid configuration:", *(f"  - {p}" for p in exc.problems), sep="\n", file=sys.stderr)
    raise
