"""One-time codes: 6 digits, stored as an HMAC, 5-minute life, single use, 5 wrong tries,
a newer code replaces the older (rules 1, 2, 5)."""
import pytest
from sqlalchemy import select

from binding.codes import CodeService
from binding.db import transaction
from binding.errors import InvalidCode
from binding.models import OneTimeCode

PHONE = "13800138001"
SECRET = b"k" * 32


@pytest.fixture
def issue(db, settings, clock):
    def _issue(purpose="login", recipient=PHONE):
        with transaction(db) as s:
            return CodeService(s, settings.codes, clock, SECRET).issue(purpose, recipient)
    return _issue


@pytest.fixture
def verify(db, settings, clock):
    """Each verification in its own transaction, as requests would run it."""
    def _verify(code, purpose="login", recipient=PHONE):
        with transaction(db) as s:
            CodeService(s, settings.codes, clock, SECRET).verify(purpose, recipient, code)
    return _verify


def reason_of(call, *args):
    with pytest.raises(InvalidCode) as info:
        call(*args)
    assert info.value.field == "code"
    return info.value


def test_code_is_six_digits_and_only_its_hmac_is_stored(db, issue):
    code = issue()
    assert len(code) == 6 and code.isdigit()
    with transaction(db) as s:
        stored = s.scalars(select(OneTimeCode.code_hash)).one()
    assert code not in stored and len(stored) == 64


def test_right_code_works_once(issue, verify):
    code = issue()
    verify(code)
    error = reason_of(verify, code)
    assert error.data["reason"] == "used" and "already used" in error.en


def test_code_expires_after_five_minutes(issue, verify, clock):
    code = issue()
    clock.advance(seconds=299)
    verify(code)
    code = issue()
    clock.advance(seconds=300)
    error = reason_of(verify, code)
    assert error.data["reason"] == "expired" and "expired" in error.en and "过期" in error.zh


def test_five_wrong_tries_kill_the_code(issue, verify):
    code = issue()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        assert reason_of(verify, wrong).data["reason"] == "wrong"
    error = reason_of(verify, wrong)  # the 5th wrong try
    assert error.data["reason"] == "exhausted" and "Too many wrong tries" in error.en
    assert reason_of(verify, code).data["reason"] == "exhausted"  # the right code is dead too


def test_wrong_code_says_wrong(issue, verify):
    code = issue()
    error = reason_of(verify, "999999" if code != "999999" else "888888")
    assert error.en == "Wrong code" and error.zh == "验证码错误"


def test_newer_code_invalidates_older(issue, verify):
    first = issue()
    second = issue()
    while second == first:  # one chance in a million
        second = issue()
    error = reason_of(verify, first)
    assert error.data["reason"] == "replaced" and "newer code" in error.en
    verify(second)


def test_codes_are_bound_to_purpose_and_recipient(issue, verify):
    code = issue("register")
    assert reason_of(verify, code, "login").data["reason"] == "wrong"
    assert reason_of(verify, code, "register", "13800138002").data["reason"] == "wrong"
    verify(code, "register")
