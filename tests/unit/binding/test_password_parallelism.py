"""Issue 5: at most ``password.max_parallel_hashes`` argon2 computations run at once per process
(default: one per usable CPU), for hashing, verifying and the dummy verification alike."""
import os
import select
import signal
import threading
import time

import pytest

from binding.passwords import PasswordHasher, usable_cpus
from config import PasswordSettings, load_settings

CHEAP = dict(argon2_memory_kib=1024, argon2_time_cost=1)


class OverlapProbe:
    """Wraps the hasher's real CryptContext and records how many of its calls overlap."""

    def __init__(self, context):
        self._context, self._lock = context, threading.Lock()
        self.running = self.most = 0

    def _call(self, name, *args):
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.01)  # long enough that unbounded threads would overlap
            return getattr(self._context, name)(*args)
        finally:
            with self._lock:
                self.running -= 1

    def hash(self, *args):
        return self._call("hash", *args)

    def verify(self, *args):
        return self._call("verify", *args)

    def verify_and_update(self, *args):
        return self._call("verify_and_update", *args)


def _run_at_once(n, fn):
    barrier = threading.Barrier(n)
    threads = [threading.Thread(target=lambda: (barrier.wait(10), fn())) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)


@pytest.mark.parametrize("limit", [1, 2])
def test_hash_verify_and_dummy_verify_take_turns(limit):
    hasher = PasswordHasher(PasswordSettings(**CHEAP, max_parallel_hashes=limit))
    stored = hasher.hash("Zs@demo2026")
    hasher._context = probe = OverlapProbe(hasher._context)
    calls = [lambda: hasher.hash("Zs@demo2026"), lambda: hasher.verify("Zs@demo2026", stored),
             lambda: hasher.dummy_verify("Zs@demo2026")]
    for call in calls:
        _run_at_once(8, call)
    assert probe.most == limit


def test_default_is_one_per_usable_cpu_and_the_setting_reads_auto():
    assert PasswordHasher(PasswordSettings(**CHEAP)).max_parallel == usable_cpus() >= 1
    assert load_settings({"BROKER_PASSWORD_MAX_PARALLEL_HASHES": "auto"}).password.max_parallel_hashes is None
    assert load_settings({"BROKER_PASSWORD_MAX_PARALLEL_HASHES": "3"}).password.max_parallel_hashes == 3


class ThreadProbe:
    """Wraps the real CryptContext and records the thread each computation ran on."""

    def __init__(self, context):
        self._context, self.threads = context, []

    def __getattr__(self, name):
        def call(*args):
            self.threads.append(threading.current_thread().name)
            return getattr(self._context, name)(*args)
        return call


@pytest.mark.parametrize("limit", [1, 2])
def test_every_hash_runs_on_the_processs_few_hashing_threads(limit):
    """Whichever request thread asks, the computation runs on one of ``limit`` long-lived
    threads (each reuses its own warm arena: the module docstring's measurement)."""
    hasher = PasswordHasher(PasswordSettings(**CHEAP, max_parallel_hashes=limit))
    stored = hasher.hash("Zs@demo2026")
    hasher._context = probe = ThreadProbe(hasher._context)
    for call in (lambda: hasher.hash("Zs@demo2026"), lambda: hasher.verify("Zs@demo2026", stored),
                 lambda: hasher.dummy_verify("Zs@demo2026")):
        _run_at_once(6, call)
    assert len(probe.threads) == 18
    assert all(name.startswith("argon2") for name in probe.threads)
    assert len(set(probe.threads)) <= limit


def test_a_forked_child_hashes_on_threads_of_its_own():
    """A hasher built before a fork (gunicorn's master, ``broker demo``) works in the child."""
    hasher = PasswordHasher(PasswordSettings(**CHEAP, max_parallel_hashes=1))
    stored = hasher.hash("Zs@demo2026")   # the parent's hashing thread now exists
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:   # the child: verify, report, leave at once (no pytest teardown here)
        try:
            ok = hasher.verify("Zs@demo2026", stored)[0] and not hasher.verify("wrong", stored)[0]
            os.write(write, b"ok" if ok else b"mismatch")
        finally:
            os._exit(0)
    os.close(write)
    ready, _, _ = select.select([read], [], [], 30)
    answer = os.read(read, 16) if ready else b"no answer in 30 s"
    if not ready:
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert answer == b"ok"
