"""``python -m bench.writers [--seconds S]``: what a stream of registrations does to every other
writer of the database (issue 5, sixth round). One process registers accounts back to back
(argon2 with the configured parameters), pinned to the server CPU; another, pinned to the load
generator's CPU, starts ``--rate`` short write transactions a second (an audit row each: the
size of a token exchange's writes) and times each. Measured twice on one fresh bench instance:
``in-transaction`` (``AccountService.register`` inside the request's transaction, as the views
did before: the hash holds the write lock) and ``password_flows`` (what the views do now:
``binding.password_flows.register_account``, the hash outside any transaction). On SQLite the
two processes meet SQLite's own file lock and busy handler, as two gunicorn workers do."""
from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time

from .seeding import BENCH_PASSWORD
from .server import BenchServer, split_cpus

MODES = ("in-transaction", "password_flows")


def _registrations(env: dict, mode: str, cpus: list[int], start, stop, counter) -> None:
    from binding.accounts import build_account_service
    from binding.db import transaction
    from binding.password_flows import register_account
    from broker.services import build_services
    from config import load_settings

    os.sched_setaffinity(0, cpus)
    s = build_services(load_settings(env))
    service = lambda db: build_account_service(db, settings=s.settings, redis=s.redis, clock=s.clock)  # noqa: E731
    start.wait()
    n = 0
    while not stop.is_set():
        n += 1
        fields = dict(phone=f"13{MODES.index(mode)}{os.getpid() % 1000:03d}{n:05d}",
                      username=f"w{mode[0]}{os.getpid()}x{n}", password=BENCH_PASSWORD, kind="personal")
        with transaction(s.sessions) as db:
            fields["code"] = service(db).codes.issue("register", fields["phone"])
        if mode == "password_flows":
            register_account(s.engine, service, **fields)
        else:
            with transaction(s.sessions) as db:
                service(db).register(**fields)
        counter.value = n
    s.dispose()


def _writes(env: dict, cpus: list[int], seconds: float, rate: float) -> list[float]:
    """Latency in ms of each short write transaction, started ``rate`` times a second (or as
    soon as the previous one ends when late), for ``seconds``."""
    from binding.audit import Audit
    from binding.db import connection_transaction
    from broker.services import build_services
    from config import load_settings

    os.sched_setaffinity(0, cpus)
    s = build_services(load_settings(env))
    latencies = []
    begin = time.perf_counter()
    end = begin + seconds
    while time.perf_counter() < end:
        due = begin + len(latencies) / rate
        if due > time.perf_counter():
            time.sleep(due - time.perf_counter())
        t = time.perf_counter()
        with connection_transaction(s.engine) as db:
            Audit(db, s.clock).record("bench.write", None)
        latencies.append(1000 * (time.perf_counter() - t))
    s.dispose()
    return latencies


def measure(srv: BenchServer, mode: str, seconds: float, rate: float) -> dict:
    server_cpus, gen_cpus = split_cpus()
    ctx = multiprocessing.get_context("spawn")
    start, stop, counter = ctx.Event(), ctx.Event(), ctx.Value("i", 0)
    proc = ctx.Process(target=_registrations, args=(srv.env, mode, server_cpus[:1], start, stop, counter))
    proc.start()
    time.sleep(2)   # imports, the hasher's dummy hash
    start.set()
    time.sleep(0.5)
    before, began = counter.value, time.perf_counter()
    latencies = _writes(srv.env, gen_cpus, seconds, rate)
    registered, elapsed = counter.value - before, time.perf_counter() - began   # a late last write runs over
    stop.set()
    proc.join()
    latencies.sort()
    return {"mode": mode, "registrations_per_s": round(registered / elapsed, 1),
            "writes_per_s": round(len(latencies) / elapsed), "write_ms_median": round(statistics.median(latencies), 2),
            "write_ms_p99": round(latencies[int(0.99 * (len(latencies) - 1))], 2),
            "write_ms_max": round(latencies[-1], 1)}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.writers")
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--rounds", type=int, default=2, help="each mode this many times, alternated")
    p.add_argument("--rate", type=float, default=200, help="write transactions started per second")
    a = p.parse_args(argv)
    srv = BenchServer([0], database_url=os.environ.get("DATABASE_URL", "")).prepare()   # the instance only
    try:
        print(f"{srv.backend}; registrations on CPU {split_cpus()[0][:1]}, writer on {split_cpus()[1]}")
        for _ in range(a.rounds):
            for mode in MODES:
                print(measure(srv, mode, a.seconds, a.rate), flush=True)
    finally:
        srv.close()


if __name__ == "__main__":
    main()
