"""Issue 5: at most ``password.max_parallel_hashes`` argon2 computations run at once per process
(default: one per usable CPU), for hashing, verifying and the dummy verification alike."""
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
