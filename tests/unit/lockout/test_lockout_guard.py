"""LoginGuard against the real Redis: DOMAIN rule 4 ("5 wrong inputs lock for 10 minutes")."""
from __future__ import annotations

from datetime import timedelta

import pytest

from config.settings import LockoutSettings
from lockout import LoginGuard


@pytest.fixture
def guard(redis_client, clock):
    return LoginGuard(redis_client, LockoutSettings(), clock)


def try_login(guard, subject, password, verified):
    """What a login path does: reserve a check, verify only if allowed, report success."""
    attempt = guard.begin(subject)
    if not attempt.allowed:
        return "locked", attempt
    verified.append(password)
    if password == "right":
        guard.succeeded(subject)
        return "ok", attempt
    return "wrong", attempt


def fail(guard, subject, times):
    return [guard.begin(subject) for _ in range(times)]


def test_five_checks_then_locked_for_ten_minutes(guard, clock):
    subject = guard.subject_for_account(7)
    attempts = fail(guard, subject, 5)
    assert [a.allowed for a in attempts] == [True] * 5
    assert [a.check_number for a in attempts] == [1, 2, 3, 4, 5]
    assert [a.attempts_left for a in attempts] == [4, 3, 2, 1, 0]
    assert [a.starts_lock for a in attempts] == [False] * 4 + [True]
    assert attempts[4].unlock_at == clock() + timedelta(seconds=600)

    refused = guard.begin(subject)
    assert not refused.allowed
    assert refused.retry_after == 600
    assert refused.unlock_at == clock() + timedelta(seconds=600)
    assert refused.unlock_at.tzinfo is not None


def test_sixth_attempt_is_refused_without_checking_even_the_right_password(guard):
    subject = guard.subject_for_account(7)
    verified = []
    for _ in range(5):
        assert try_login(guard, subject, "wrong", verified)[0] == "wrong"
    outcome, attempt = try_login(guard, subject, "right", verified)
    assert outcome == "locked"
    assert attempt.retry_after == 600
    assert len(verified) == 5  # the right password was never looked at


def test_lock_ends_after_the_window(guard, clock):
    subject = guard.subject_for_account(7)
    fail(guard, subject, 5)
    clock.advance(599.5)
    still = guard.begin(subject)
    assert not still.allowed and still.retry_after == 1  # rounded up, never 0 while locked
    clock.advance(0.5)
    again = guard.begin(subject)
    assert again.allowed and again.check_number == 1 and again.attempts_left == 4


def test_success_on_third_check_resets_the_count(guard):
    subject = guard.subject_for_account(7)
    verified = []
    try_login(guard, subject, "wrong", verified)
    try_login(guard, subject, "wrong", verified)
    assert try_login(guard, subject, "right", verified)[0] == "ok"
    outcomes = [try_login(guard, subject, "wrong", verified)[0] for _ in range(6)]
    assert outcomes == ["wrong"] * 5 + ["locked"]


def test_right_password_on_the_locking_check_leaves_no_lock(guard):
    subject = guard.subject_for_account(7)
    verified = []
    for _ in range(4):
        try_login(guard, subject, "wrong", verified)
    outcome, attempt = try_login(guard, subject, "right", verified)
    assert outcome == "ok" and attempt.starts_lock
    assert not guard.status(subject).locked
    nxt = guard.begin(subject)
    assert nxt.allowed and nxt.check_number == 1


def test_window_restarts_once_it_has_passed(guard, clock):
    subject = guard.subject_for_account(7)
    fail(guard, subject, 4)
    clock.advance(600)
    attempt = guard.begin(subject)
    assert attempt.check_number == 1 and attempt.attempts_left == 4


def test_checks_spread_inside_one_window_still_lock(guard, clock):
    subject = guard.subject_for_account(7)
    for _ in range(5):
        guard.begin(subject)
        clock.advance(100)  # 5th check at +400 s, inside the 600 s window
    assert not guard.begin(subject).allowed


def test_unlock_clears_a_lock(guard):
    subject = guard.subject_for_account(7)
    fail(guard, subject, 5)
    assert guard.unlock(subject) is True
    assert guard.begin(subject).allowed
    assert guard.unlock(guard.subject_for_account(8)) is False  # nothing there


def test_unlock_reports_false_when_the_lock_already_ran_out(guard, clock):
    subject = guard.subject_for_account(7)
    fail(guard, subject, 5)
    clock.advance(601)
    assert guard.unlock(subject) is False


def test_unlock_clears_a_running_count(guard):
    subject = guard.subject_for_account(7)
    fail(guard, subject, 3)
    assert guard.unlock(subject) is True
    assert guard.status(subject).failures == 0
    assert guard.begin(subject).check_number == 1


def test_status(guard, clock):
    subject = guard.subject_for_account(7)
    assert guard.status(subject) == guard.status(guard.subject_for_account(99))
    assert not guard.status(subject).locked and guard.status(subject).failures == 0
    fail(guard, subject, 2)
    assert guard.status(subject).failures == 2 and not guard.status(subject).locked
    fail(guard, subject, 3)
    clock.advance(60)
    status = guard.status(subject)
    assert status.locked and status.failures == 5 and status.retry_after == 540
    assert status.unlock_at == clock() + timedelta(seconds=540)
    clock.advance(540)
    assert guard.status(subject).locked is False


def test_subjects_are_independent(guard):
    a, b = guard.subject_for_account(1), guard.subject_for_account(2)
    ghost = guard.subject_for_identifier("13800000000")
    fail(guard, a, 5)
    assert not guard.begin(a).allowed
    assert guard.begin(b).allowed
    assert guard.begin(ghost).check_number == 1


def test_unknown_identifiers_are_hashed_and_stable(guard, redis_client, clock):
    phone = "13800138000"
    subject = guard.subject_for_identifier(phone)
    assert phone not in subject
    assert subject == guard.subject_for_identifier(phone)
    assert subject != guard.subject_for_identifier("13800138001")
    keyed = LoginGuard(redis_client, LockoutSettings(), clock, identifier_key=b"k" * 32)
    assert keyed.subject_for_identifier(phone) != subject
    fail(guard, subject, 5)
    names = [k.decode() for k in redis_client.keys("*")]
    assert names and all(n.startswith("tx:lock:") and phone not in n for n in names)
    with pytest.raises(ValueError):
        guard.subject_for_identifier("")


def test_settings_change_the_limits(redis_client, clock):
    guard = LoginGuard(redis_client, LockoutSettings(max_failures=3, window_seconds=120), clock)
    subject = guard.subject_for_account(7)
    attempts = fail(guard, subject, 4)
    assert [a.allowed for a in attempts] == [True, True, True, False]
    assert attempts[2].starts_lock and attempts[3].retry_after == 120
    clock.advance(120)
    assert guard.begin(subject).allowed


def test_lock_state_is_shared_between_guards(redis_client, clock):
    """Two workers with their own guard objects see one count (it lives in Redis)."""
    one = LoginGuard(redis_client, LockoutSettings(), clock)
    two = LoginGuard(redis_client, LockoutSettings(), clock)
    subject = one.subject_for_account(7)
    fail(one, subject, 3)
    fail(two, subject, 2)
    assert not one.begin(subject).allowed
