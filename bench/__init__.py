"""Benchmarks of issue 5: ``make bench`` / ``python -m bench`` (see bench/README section in README.md).

Speed lives here, not in tests. The broker runs under gunicorn in its own processes, pinned to
the "server" CPUs; the load generator (locust, library mode) runs in another process pinned to
the remaining CPUs, on loopback. Every figure is per core: divided by the gunicorn worker count,
which equals the number of server CPUs (one worker per core).
"""
