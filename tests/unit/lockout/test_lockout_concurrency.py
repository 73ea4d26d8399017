"""Issue 2: 200 concurrent wrong-password requests against one account -> exactly 5 checks.

Real threads, each with its own Redis client (as separate workers would have), released
together by a barrier, against the real Redis server.
"""
from __future__ import annotations

import threading

import redis

from config.settings import CodeSettings, LockoutSettings
from lockout import LoginGuard, SendLimiter

THREADS = 200


def run_together(infra, make, call):
    """Run ``call(obj)`` in THREADS threads, each with its own client and object, at once."""
    barrier = threading.Barrier(THREADS)
    results, errors, clients = [], [], []
    lock = threading.Lock()

    def worker():
        client = redis.Redis.from_url(infra["redis_url"])
        with lock:
            clients.append(client)
        obj = make(client)
        client.ping()  # connected before the start signal
        try:
            barrier.wait(timeout=60)
            outcome = call(obj)
            with lock:
                results.append(outcome)
        except Exception as exc:  # reported below; a silent thread death would hide a bug
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for c in clients:
        c.close()
    assert not errors, errors[:3]
    assert len(results) == THREADS
    return results


def test_200_concurrent_attempts_allow_exactly_five_password_checks(infra, redis_client, clock):
    verifications = []
    subject = "acct:42"

    def attempt(guard):
        a = guard.begin(subject)
        if a.allowed:
            verifications.append(a.check_number)  # the caller would verify the password here
        return a

    results = run_together(infra, lambda c: LoginGuard(c, LockoutSettings(), clock), attempt)
    assert sorted(verifications) == [1, 2, 3, 4, 5]
    refused = [a for a in results if not a.allowed]
    assert len(refused) == THREADS - 5
    assert all(a.retry_after == 600 for a in refused)


def test_concurrent_sends_to_one_phone_send_one_code(infra, redis_client, clock):
    results = run_together(
        infra,
        lambda c: SendLimiter(c, CodeSettings(hourly_limit_per_ip=1000), clock),
        lambda limiter: limiter.acquire("13800138000", "203.0.113.9"),
    )
    assert sum(d.allowed for d in results) == 1
    assert {d.reason for d in results if not d.allowed} == {"interval"}
