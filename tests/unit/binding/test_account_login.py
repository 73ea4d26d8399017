"""Login paths (rule 2) and the lock (rule 4, issue 2 "Lockout") through AccountService,
on the real database and the real Redis."""
import pytest
from passlib.hash import bcrypt, pbkdf2_sha256
from sqlalchemy import select

from binding.accounts import ensure_can_sign_in, local_cert_level
from binding.password_flows import login_with_password
from binding.db import transaction
from binding.errors import (AccountDisabled, AccountLocked, CaptchaRequired, DomainError, InvalidCode,
                            InvalidCredentials, NotFound, ValidationFailed)
from binding.models import Account, AuditEvent, OutboxMessage
from lockout import IpThrottle
from tests.support.factories import (TEST_IP, account_service, bind_enterprise, fast_settings,  # noqa: F401
                                     make_account, make_enterprise, outbox_code)

PASSWORD = "Zs@demo2026"
WRONG = "Zs@demo2027"


@pytest.fixture
def people(db):
    """zhangsan (personal, also bound to unit C: may still not use its USCC), lisi (enterprise, unit A)."""
    with transaction(db) as s:
        zhang = make_account(s, username="zhangsan", phone="13800138001", email="zhangsan@example.com")
        lisi = make_account(s, username="lisi", phone="13800138003", kind="enterprise", password="Ls@demo2026")
        bind_enterprise(s, lisi, make_enterprise(s, uscc="91110108MA01BJ2K6M"))
        bind_enterprise(s, zhang, make_enterprise(s, uscc="91110105MA02CY7D8P", name="北京朝阳示例服务有限公司"))
        return {"zhangsan": zhang.id, "lisi": lisi.id}


def attempt(db, account_service, identifier, password, captcha=True, ip=TEST_IP):
    """One login request as the broker runs it (a read, the verification outside any
    transaction, a write transaction): the account id, or the refusal."""
    try:
        return login_with_password(db, lambda s: account_service(s, ip=ip), identifier, password,
                                   captcha_passed=captcha).id
    except DomainError as exc:
        return exc


def events(db, name, account_id=None):
    with transaction(db) as s:
        query = select(AuditEvent).where(AuditEvent.event == name)
        if account_id is not None:
            query = query.where(AuditEvent.account_id == account_id)
        return s.scalars(query).all()


def lock(db, account_service, identifier="zhangsan"):
    results = [attempt(db, account_service, identifier, WRONG) for _ in range(5)]
    assert all(isinstance(r, InvalidCredentials) for r in results)
    return results


@pytest.mark.parametrize("identifier", ["zhangsan", "ZhangSan", "+86 138 0013 8001", "13800138001",
                                        "ZhangSan@Example.com"])
def test_login_by_username_phone_or_email(db, account_service, people, identifier):
    assert attempt(db, account_service, identifier, PASSWORD) == people["zhangsan"]
    assert events(db, "login.succeeded", people["zhangsan"])


def test_uscc_login_only_for_legal_person_accounts(db, account_service, people):
    assert attempt(db, account_service, "91110108ma01bj2k6m", "Ls@demo2026") == people["lisi"]
    refused = attempt(db, account_service, "91110105MA02CY7D8P", PASSWORD)  # zhangsan's unit, personal account
    assert isinstance(refused, InvalidCredentials)


def test_five_wrong_passwords_lock_and_the_sixth_is_refused_unchecked(db, account_service, people, clock):
    results = lock(db, account_service)
    assert [r.data["attempts_left"] for r in results] == [4, 3, 2, 1, 0]
    assert "now locked" in results[-1].en and "锁定" in results[-1].zh
    sixth = attempt(db, account_service, "zhangsan", PASSWORD)
    assert isinstance(sixth, AccountLocked)
    assert sixth.data["retry_after"] == 600
    assert sixth.data["unlock_at"].startswith("2026-11-23T09:10")
    assert "17:10" in sixth.zh and "17:10" in sixth.en and "10 min" in sixth.en  # Beijing time
    assert len(events(db, "login.failed", people["zhangsan"])) == 5
    assert len(events(db, "account.locked", people["zhangsan"])) == 1
    clock.advance(seconds=600)
    assert attempt(db, account_service, "zhangsan", PASSWORD) == people["zhangsan"]


def test_every_identifier_of_an_account_counts_together(db, account_service, people):
    for identifier in ("zhangsan", "13800138001", "zhangsan@example.com", "ZHANGSAN", "+8613800138001"):
        assert isinstance(attempt(db, account_service, identifier, WRONG), InvalidCredentials)
    assert isinstance(attempt(db, account_service, "zhangsan@example.com", PASSWORD), AccountLocked)


def test_a_right_password_resets_the_count(db, account_service, people):
    for _ in range(4):
        attempt(db, account_service, "zhangsan", WRONG)
    assert attempt(db, account_service, "zhangsan", PASSWORD) == people["zhangsan"]
    assert attempt(db, account_service, "zhangsan", WRONG).data["attempts_left"] == 4


def answers(results):
    return [(type(r).__name__, r.code, r.zh, r.en, r.data, r.field) for r in results]


def test_unknown_identifier_locks_exactly_like_a_real_one(db, account_service, people):
    real = [attempt(db, account_service, "zhangsan", WRONG) for _ in range(5)]
    real.append(attempt(db, account_service, "zhangsan", PASSWORD))
    ghost = [attempt(db, account_service, "nobody", WRONG) for _ in range(5)]
    ghost.append(attempt(db, account_service, "nobody", PASSWORD))
    assert answers(real) == answers(ghost)
    assert isinstance(ghost[-1], AccountLocked)
    assert len(events(db, "account.locked")) == 2


def test_sms_code_login_stays_open_while_locked(db, account_service, people):
    lock(db, account_service)
    with transaction(db) as s:
        account_service(s).send_code("login", "138 0013 8001")
        code = outbox_code(s, "13800138001")
    with transaction(db) as s:
        assert account_service(s).login_phone_code("+86 13800138001", code).id == people["zhangsan"]
    # the password stays locked: an SMS login is no proof against whoever is guessing
    assert isinstance(attempt(db, account_service, "zhangsan", PASSWORD), AccountLocked)


def test_reset_by_sms_code_ends_the_lock(db, account_service, people):
    lock(db, account_service)
    with transaction(db) as s:
        account_service(s).send_code("reset", "13800138001")
        code = outbox_code(s, "13800138001")
    with transaction(db) as s:
        account_service(s).reset_password(phone="13800138001", code=code, new_password="New@pass2026")
    assert attempt(db, account_service, "zhangsan", "New@pass2026") == people["zhangsan"]
    assert isinstance(attempt(db, account_service, "zhangsan", PASSWORD), InvalidCredentials)
    assert events(db, "password.reset", people["zhangsan"])
    [unlocked] = events(db, "account.unlocked", people["zhangsan"])
    assert unlocked.detail["reason"] == "password_reset"


def test_reset_refuses_a_weak_password_without_using_the_code(db, account_service, people):
    with transaction(db) as s:
        account_service(s).send_code("reset", "13800138001")
        code = outbox_code(s, "13800138001")
    with pytest.raises(ValidationFailed) as info:
        with transaction(db) as s:
            account_service(s).reset_password(phone="13800138001", code=code, new_password="zhangsan")
    assert info.value.field == "password"
    with transaction(db) as s:
        account_service(s).reset_password(phone="13800138001", code=code, new_password="New@pass2026")


def test_codes_to_unknown_phones_answer_like_success_but_send_nothing(db, account_service, people):
    with transaction(db) as s:
        svc = account_service(s)
        svc.send_code("login", "13900000000")
        svc.send_code("reset", "13900000001")
        svc.send_email_code("ghost@example.com")
    with transaction(db) as s:
        assert s.scalars(select(OutboxMessage)).all() == []
    with pytest.raises(InvalidCode):
        with transaction(db) as s:
            account_service(s).login_phone_code("13900000000", "123456")


def test_email_code_login_verifies_the_mailbox(db, account_service, people):
    with transaction(db) as s:
        account_service(s).send_email_code("ZhangSan@example.com")
        mail = s.scalars(select(OutboxMessage)).one()
        assert mail.channel == "email" and mail.subject
        code = outbox_code(s, "zhangsan@example.com")
    with transaction(db) as s:
        account = account_service(s).login_email_code("zhangsan@example.com", code)
        assert account.id == people["zhangsan"] and account.email_verified


def test_disabled_account_is_refused_on_every_path(db, account_service, people):
    with transaction(db) as s:
        account_service(s).set_disabled("zhangsan", True, actor="cli")
    refused = attempt(db, account_service, "zhangsan", PASSWORD)
    assert isinstance(refused, AccountDisabled) and "disabled" in refused.en and refused.zh
    # a wrong password still answers like any wrong password: no hint that it is disabled
    assert isinstance(attempt(db, account_service, "zhangsan", WRONG), InvalidCredentials)
    with transaction(db) as s:
        account_service(s).send_code("login", "13800138001")
        code = outbox_code(s, "13800138001")
    with pytest.raises(AccountDisabled):
        with transaction(db) as s:
            account_service(s).login_phone_code("13800138001", code)
    with transaction(db) as s:
        with pytest.raises(AccountDisabled):
            ensure_can_sign_in(s.get(Account, people["zhangsan"]))
        account_service(s).set_disabled("13800138001", False, actor="cli")
    assert attempt(db, account_service, "zhangsan", PASSWORD) == people["zhangsan"]
    assert [e.actor for e in events(db, "account.disabled")] == ["cli"]
    assert events(db, "account.enabled", people["zhangsan"])


def test_staff_unlock_by_any_login_name(db, account_service, people):
    lock(db, account_service)
    with transaction(db) as s:
        assert account_service(s, ip=None).unlock("+86 138 0013 8001", actor="cli:ops") is True
    assert attempt(db, account_service, "zhangsan", PASSWORD) == people["zhangsan"]
    [unlocked] = events(db, "account.unlocked", people["zhangsan"])
    assert unlocked.actor == "cli:ops"
    with transaction(db) as s:
        assert account_service(s, ip=None).unlock("zhangsan", actor="cli:ops") is False
    with pytest.raises(NotFound) as info:
        with transaction(db) as s:
            account_service(s, ip=None).unlock("nobody", actor="cli:ops")
    assert info.value.field == "login"


@pytest.mark.parametrize("legacy", [bcrypt, pbkdf2_sha256], ids=["bcrypt", "pbkdf2_sha256"])
def test_imported_legacy_hash_is_upgraded_to_argon2id_on_login(db, account_service, legacy):
    with transaction(db) as s:
        account_id = make_account(s, username="imported", password_hash=legacy.hash("Old@system2019")).id
    assert isinstance(attempt(db, account_service, "imported", "Old@system2020"), InvalidCredentials)
    with transaction(db) as s:
        assert not s.get(Account, account_id).password_hash.startswith("$argon2id$")
    assert attempt(db, account_service, "imported", "Old@system2019") == account_id
    with transaction(db) as s:
        assert s.get(Account, account_id).password_hash.startswith("$argon2id$")
    assert attempt(db, account_service, "imported", "Old@system2019") == account_id


def test_ip_over_the_threshold_must_pass_the_captcha_first(db, account_service, people, fast_settings,
                                                            redis_client, clock):
    throttle = IpThrottle(redis_client, fast_settings.lockout, clock)
    for _ in range(fast_settings.lockout.ip_failure_threshold + 1):
        throttle.record_failure(TEST_IP)
    refused = attempt(db, account_service, "zhangsan", WRONG, captcha=False)
    assert isinstance(refused, CaptchaRequired) and refused.field == "captcha"
    # nothing was checked: the full five checks are still there
    assert attempt(db, account_service, "zhangsan", WRONG, captcha=True).data["attempts_left"] == 4
    assert attempt(db, account_service, "zhangsan", PASSWORD, ip="198.51.100.1", captcha=False) == people["zhangsan"]


def test_the_captcha_is_asked_before_a_lock_is_told(db, account_service, people, fast_settings, redis_client, clock):
    """Without the captcha, an IP over the threshold learns nothing about the account, not even
    that it is locked; with it, the lock answers."""
    for _ in range(5):
        attempt(db, account_service, "zhangsan", WRONG, ip="198.51.100.2")
    throttle = IpThrottle(redis_client, fast_settings.lockout, clock)
    for _ in range(fast_settings.lockout.ip_failure_threshold + 1):
        throttle.record_failure(TEST_IP)
    assert isinstance(attempt(db, account_service, "zhangsan", PASSWORD, captcha=False), CaptchaRequired)
    assert isinstance(attempt(db, account_service, "zhangsan", PASSWORD, captcha=True), AccountLocked)


def test_change_password_checks_the_old_one(db, account_service, people):
    with pytest.raises(InvalidCredentials) as info:
        with transaction(db) as s:
            account_service(s).change_password(s.get(Account, people["zhangsan"]), WRONG, "New@pass2026")
    assert info.value.field == "old_password"
    with transaction(db) as s:
        account_service(s).change_password(s.get(Account, people["zhangsan"]), PASSWORD, "New@pass2026")
    assert attempt(db, account_service, "zhangsan", "New@pass2026") == people["zhangsan"]
    assert events(db, "password.changed", people["zhangsan"])


def test_certification_level_two_needs_a_verified_phone(db):
    with transaction(db) as s:
        assert local_cert_level(make_account(s)) == 2
        assert local_cert_level(make_account(s, phone_verified=False)) == 1
        assert local_cert_level(make_account(s, phone=None)) == 1


def test_empty_login_fields_are_named(db, account_service):
    result = attempt(db, account_service, " ", "")
    assert isinstance(result, ValidationFailed) and set(result.errors) == {"username", "password"}
