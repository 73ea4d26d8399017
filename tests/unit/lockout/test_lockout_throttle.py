"""IpThrottle: wrong passwords from one IP across many accounts ask for a captcha."""
from __future__ import annotations

import pytest

from config.settings import LockoutSettings
from lockout import IpThrottle, LoginGuard


@pytest.fixture
def throttle(redis_client, clock):
    return IpThrottle(redis_client, LockoutSettings(), clock)


def test_captcha_only_above_the_threshold(throttle):
    ip = "198.51.100.7"
    counts = [throttle.record_failure(ip) for _ in range(30)]
    assert counts == list(range(1, 31))
    assert throttle.needs_captcha(ip) is False  # 30 is the threshold, not above it
    assert throttle.record_failure(ip) == 31
    assert throttle.needs_captcha(ip) is True
    assert throttle.needs_captcha("198.51.100.8") is False


def test_recording_a_failure_tells_whether_the_next_attempt_needs_the_captcha(throttle):
    ip = "198.51.100.9"
    answers = [throttle.record_failure_needs_captcha(ip) for _ in range(31)]
    assert answers == [False] * 30 + [True]
    assert throttle.needs_captcha(ip) is True and throttle.failures(ip) == 31


def test_one_account_lock_worth_of_mistakes_never_needs_a_captcha(throttle):
    for _ in range(5):
        throttle.record_failure("198.51.100.7")
    assert not throttle.needs_captcha("198.51.100.7")


def test_failures_age_out_of_the_sliding_window(throttle, clock):
    ip = "198.51.100.7"
    for _ in range(20):
        throttle.record_failure(ip)
    clock.advance(300)
    for _ in range(11):
        throttle.record_failure(ip)
    assert throttle.needs_captcha(ip)
    clock.advance(300)  # the first 20 are now 600 s old: out of the window
    assert throttle.failures(ip) == 11
    assert not throttle.needs_captcha(ip)
    assert throttle.record_failure(ip) == 12
    clock.advance(600)
    assert throttle.failures(ip) == 0


def test_ipv6_counts_per_64(redis_client, clock):
    throttle = IpThrottle(redis_client, LockoutSettings(ip_failure_threshold=6), clock)
    for i in range(7):
        throttle.record_failure(f"2001:db8:1:2::{i + 1:x}")
    assert throttle.needs_captcha("2001:db8:1:2:ffff::1")
    assert not throttle.needs_captcha("2001:db8:1:3::1")


def test_threshold_is_a_setting(redis_client, clock):
    throttle = IpThrottle(redis_client, LockoutSettings(ip_failure_threshold=10), clock)
    for _ in range(11):
        throttle.record_failure("192.0.2.1")
    assert throttle.needs_captcha("192.0.2.1")
    assert throttle.needs_captcha("::ffff:192.0.2.1")  # the same client, IPv4-mapped


def test_a_shut_captcha_gate_refuses_the_check_before_anything_is_counted(throttle, redis_client, clock):
    """Issue 5: the captcha question rides in LoginGuard.begin's round trip; a refusal for the
    captcha reserves no check of the account's lock."""
    guard = LoginGuard(redis_client, LockoutSettings(), clock)
    ip, subject = "198.51.100.30", guard.subject_for_account(31)
    for _ in range(30):
        throttle.record_failure(ip)
    assert guard.begin(subject, throttle.gate(ip)).check_number == 1   # 30 is the threshold, not above it
    throttle.record_failure(ip)
    refused = guard.begin(subject, throttle.gate(ip))
    assert (refused.allowed, refused.captcha_required) == (False, True)
    assert guard.status(subject).failures == 1                           # nothing reserved by the refusal
    assert guard.begin(subject, throttle.gate("198.51.100.31")).check_number == 2
    assert guard.begin(subject).check_number == 3                        # no gate: the captcha was passed
    clock.advance(LockoutSettings().ip_window_seconds + 1)
    assert guard.begin(subject, throttle.gate(ip)).captcha_required is False   # the failures left the window
