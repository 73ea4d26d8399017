"""Registration (rule 1): phone + SMS code, username, password, kind. Refusals name the field,
in Chinese and English, and change nothing."""
import pytest
from sqlalchemy import func, select

from binding.db import transaction
from binding.errors import Conflict, InvalidCode, RateLimited, ValidationFailed
from binding.models import Account, AuditEvent, OneTimeCode, OutboxMessage
from tests.support.factories import account_service, fast_settings, make_account, outbox_code  # noqa: F401

PHONE = "13800138001"


def counts(db):
    with transaction(db) as s:
        return {model.__tablename__: s.scalar(select(func.count()).select_from(model))
                for model in (Account, AuditEvent, OneTimeCode, OutboxMessage)}


def send_register_code(db, account_service, phone=PHONE):
    with transaction(db) as s:
        account_service(s).send_code("register", phone)
        return outbox_code(s, PHONE)


def register(db, account_service, **fields):
    data = dict(phone=PHONE, username="zhangsan", password="Zs@demo2026", kind="personal")
    data.update(fields)
    with transaction(db) as s:
        account = account_service(s).register(**data)
        return account.id, account.username, account.phone, account.phone_verified, account.kind


def test_register_with_phone_code(db, account_service):
    code = send_register_code(db, account_service, "+86 138-0013-8001")
    with transaction(db) as s:
        sms = s.scalars(select(OutboxMessage)).one()
        assert sms.body.startswith("【通行】") and "5分钟内有效" in sms.body
    account_id, username, phone, verified, kind = register(db, account_service, code=code,
                                                           phone="+8613800138001", kind="enterprise")
    assert (username, phone, verified, kind) == ("zhangsan", PHONE, True, "enterprise")
    with transaction(db) as s:
        events = s.scalars(select(AuditEvent.event).where(AuditEvent.account_id == account_id)).all()
        assert "account.registered" in events
        sent = s.scalars(select(AuditEvent).where(AuditEvent.event == "code.sent")).one()
        assert sent.detail["recipient"] == "138****8001" and sent.ip == "203.0.113.7"
        assert code not in str(sent.detail)


def test_malformed_input_lists_every_field_and_writes_nothing(db, account_service):
    before = counts(db)
    with pytest.raises(ValidationFailed) as info:
        register(db, account_service, phone="12345", username="1x", password="short", kind="staff", code="")
    assert set(info.value.errors) == {"phone", "username", "password", "kind", "code"}
    for zh, en in info.value.errors.values():
        assert zh and en and zh != en
    assert "at least 8" in info.value.errors["password"][1]
    assert counts(db) == before


def test_weak_password_says_which_rule(db, account_service):
    code = send_register_code(db, account_service)
    before = counts(db)
    with pytest.raises(ValidationFailed) as info:
        register(db, account_service, code=code, password="zhangsan2026")
    assert info.value.field == "password"
    assert "three of" in info.value.en
    assert counts(db) == before


def test_phone_already_registered_is_refused(db, account_service):
    with transaction(db) as s:
        make_account(s, phone=PHONE, username="someone")
    before = counts(db)
    with pytest.raises(Conflict) as info:
        send_register_code(db, account_service)
    assert info.value.field == "phone" and "already registered" in info.value.en and "已注册" in info.value.zh
    with pytest.raises(Conflict) as info:
        register(db, account_service, code="123456", phone="86 13800138001")
    assert info.value.field == "phone"
    assert counts(db) == before


def test_username_taken_in_any_case_is_refused(db, account_service):
    with transaction(db) as s:
        make_account(s, username="ZhangSan", phone="13800138009")
    code = send_register_code(db, account_service)
    before = counts(db)
    with pytest.raises(Conflict) as info:
        register(db, account_service, code=code, username="zhangSAN")
    assert info.value.field == "username" and "taken" in info.value.en and "已被占用" in info.value.zh
    assert counts(db) == before
    register(db, account_service, code=code, username="zhangsan2")  # the code is still good


def test_wrong_code_is_refused_and_creates_nothing(db, account_service):
    code = send_register_code(db, account_service)
    before = counts(db)
    with pytest.raises(InvalidCode) as info:
        register(db, account_service, code="000000" if code != "000000" else "111111")
    assert info.value.field == "code" and info.value.zh and info.value.en
    assert counts(db) == before
    with transaction(db) as s:  # the wrong try was counted although the request failed
        assert s.scalars(select(OneTimeCode.attempts)).one() == 1


def test_codes_are_rate_limited_per_phone(db, account_service, clock):
    send_register_code(db, account_service)
    with pytest.raises(RateLimited) as info:
        send_register_code(db, account_service)
    assert info.value.field == "phone" and 0 < info.value.data["retry_after"] <= 60
    clock.advance(seconds=60)
    send_register_code(db, account_service)
