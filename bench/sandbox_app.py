"""The sandbox upstream portals (issue 4) as a WSGI app for the federated scenario, served by
gunicorn in a process of its own (one worker: the sandbox keeps its codes and sessions in memory).

``SANDBOX_URL`` is where it is reached, ``BROKER_URL`` the broker registered as its client
(``sandbox.portals.demo_config``)."""
from __future__ import annotations

import os

from sandbox.portals import create_sandbox
from sandbox.portals.demo_config import demo_clients

app = create_sandbox(os.environ["SANDBOX_URL"], demo_clients(os.environ["BROKER_URL"]))
