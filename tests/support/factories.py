"""Plain factory functions for domain tests (ARCHITECTURE "Tests")."""
from __future__ import annotations

import itertools
import re
from datetime import datetime, timezone

from sqlalchemy import select

from binding.models import Account, Enterprise, EnterpriseBinding, OutboxMessage
from binding.passwords import PasswordHasher
from config import PasswordSettings

# argon2id parameters cheap enough for tests that are not about hashing. Use the same values
# in the settings of such tests (make_settings(infra, password=CHEAP_PASSWORD)) so logins do
# not re-hash.
CHEAP_PASSWORD = {"argon2_memory_kib": 1024, "argon2_time_cost": 1, "argon2_parallelism": 1}
DEMO_PASSWORD = "Zs@demo2026"
_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
_serial = itertools.count(1)


def cheap_hasher() -> PasswordHasher:
    return PasswordHasher.for_settings(PasswordSettings(**CHEAP_PASSWORD))


def make_account(session, *, password: str | None = DEMO_PASSWORD, hasher: PasswordHasher | None = None,
                 **overrides) -> Account:
    """A personal account with a verified phone and a unique username/phone; ``overrides`` win."""
    n = next(_serial)
    fields = dict(username=f"user{n}", phone=f"1390000{n % 10000:04d}", phone_verified=True,
                  kind="personal", status="active", created_at=_EPOCH)
    fields.update(overrides)
    if "password_hash" not in overrides:
        fields["password_hash"] = (hasher or cheap_hasher()).hash(password) if password else None
    account = Account(**fields)
    session.add(account)
    session.flush()
    return account


def make_enterprise(session, *, uscc: str = "91110108MA01BJ2K6M", name: str = "北京示例科技有限公司",
                    **overrides) -> Enterprise:
    enterprise = Enterprise(uscc=uscc, name=name, region=overrides.pop("region", uscc[2:8]),
                            categories=overrides.pop("categories", []), created_at=_EPOCH, **overrides)
    session.add(enterprise)
    session.flush()
    return enterprise


def bind_enterprise(session, account: Account, enterprise: Enterprise, source: str = "bj-yzt") -> EnterpriseBinding:
    binding = EnterpriseBinding(enterprise_id=enterprise.id, account_id=account.id, source=source, bound_at=_EPOCH)
    session.add(binding)
    session.flush()
    return binding


def outbox_code(session, recipient: str) -> str:
    """The code in the newest message to ``recipient`` (what the user reads on the phone)."""
    body = session.scalars(select(OutboxMessage.body).where(OutboxMessage.recipient == recipient)
                           .order_by(OutboxMessage.id.desc())).first()
    if body is None:
        raise AssertionError(f"no message to {recipient}")
    return re.search(r"\b(\d{6})\b", body).group(1)


# ---- fixtures for account-domain tests (import them into the test module) -----------------

import pytest  # noqa: E402

TEST_IP = "203.0.113.7"


@pytest.fixture
def fast_settings(infra):
    from tests.conftest import make_settings

    return make_settings(infra, password=CHEAP_PASSWORD)


@pytest.fixture
def account_service(fast_settings, redis_client, clock):
    """build(session, ip=TEST_IP, **kw) -> AccountService wired with the real Redis and clock."""
    from binding.accounts import build_account_service

    def build(session, ip: str | None = TEST_IP, **kw):
        return build_account_service(session, settings=fast_settings, redis=redis_client, clock=clock,
                                     ip=ip, request_id="req-test", **kw)

    return build
