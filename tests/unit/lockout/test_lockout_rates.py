"""SendLimiter: 1 code per 60 s and 10 per day per recipient, a limit per IP (issue 2)."""
from __future__ import annotations

import pytest

from config.settings import CodeSettings
from lockout import SendLimiter

PHONE = "13800138000"
IP = "203.0.113.5"


@pytest.fixture
def limiter(redis_client, clock):
    return SendLimiter(redis_client, CodeSettings(), clock)


def test_one_send_per_interval(limiter, clock):
    assert limiter.acquire(PHONE, IP).allowed
    second = limiter.acquire(PHONE, IP)
    assert not second.allowed and second.reason == "interval"
    assert 0 < second.retry_after <= 60
    clock.advance(30)
    assert limiter.acquire(PHONE, IP).retry_after == 30
    clock.advance(30)
    assert limiter.acquire(PHONE, IP).allowed


def test_another_recipient_is_not_held_up_by_the_interval(limiter):
    assert limiter.acquire(PHONE, IP).allowed
    assert limiter.acquire("13900139000", IP).allowed


def test_eleventh_send_in_a_day_is_refused(limiter, clock):
    for _ in range(10):
        assert limiter.acquire(PHONE, IP).allowed
        clock.advance(60)
    refused = limiter.acquire(PHONE, IP)
    assert not refused.allowed and refused.reason == "daily"
    assert refused.retry_after == 24 * 3600 - 600  # until the first send is a day old
    clock.advance(refused.retry_after)
    assert limiter.acquire(PHONE, IP).allowed


def test_ip_limit_across_many_recipients(limiter, clock):
    for i in range(30):
        assert limiter.acquire(f"1380000{i:04d}", IP).allowed
    refused = limiter.acquire("13900000000", IP)
    assert not refused.allowed and refused.reason == "ip" and refused.retry_after == 3600
    assert limiter.acquire("13900000000", "203.0.113.6").allowed
    clock.advance(3600)
    assert limiter.acquire("13900000001", IP).allowed


def test_a_refused_send_records_nothing(limiter, clock):
    assert limiter.acquire(PHONE, IP).allowed
    clock.advance(30)
    assert limiter.acquire(PHONE, IP).reason == "interval"
    clock.advance(30)  # had the refusal counted, the interval would run another 30 s
    assert limiter.acquire(PHONE, IP).allowed

    for i in range(29):
        limiter.acquire(f"1380000{i:04d}", IP)
    blocked = "13700000000"
    assert limiter.acquire(blocked, IP).reason == "ip"
    # Nothing was recorded for the blocked recipient: no interval, no daily count.
    assert limiter.acquire(blocked, "192.0.2.1").allowed


def test_refused_attempts_do_not_use_up_the_daily_limit(limiter, clock):
    for _ in range(9):
        assert limiter.acquire(PHONE, IP).allowed
        for _ in range(3):
            assert not limiter.acquire(PHONE, IP).allowed
        clock.advance(60)
    assert limiter.acquire(PHONE, IP).allowed  # the 10th real send


def test_reports_the_longest_wait_among_the_limits_hit(redis_client, clock):
    limiter = SendLimiter(redis_client, CodeSettings(daily_limit_per_recipient=2), clock)
    limiter.acquire(PHONE, IP)
    clock.advance(60)
    limiter.acquire(PHONE, IP)
    clock.advance(10)
    refused = limiter.acquire(PHONE, IP)  # interval (50 s) and daily both hit
    assert refused.reason == "daily" and refused.retry_after == 24 * 3600 - 70


def test_limits_are_settings(redis_client, clock):
    limiter = SendLimiter(
        redis_client, CodeSettings(send_interval_seconds=10, hourly_limit_per_ip=2), clock
    )
    assert limiter.acquire(PHONE, IP).allowed
    assert limiter.acquire(PHONE, IP).retry_after == 10
    assert limiter.acquire("13900139000", IP).allowed
    assert limiter.acquire("13700137000", IP).reason == "ip"
    clock.advance(10)
    assert limiter.acquire(PHONE, "192.0.2.7").allowed
