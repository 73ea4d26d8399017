"""Issue 2 "Lockout": 200 concurrent wrong-password logins against one account lead to exactly
5 password verifications. Real threads released together, each with its own database sessions
and transactions, the real Redis, and a counting PasswordHasher injected into the service; both
as the broker logs in (no transaction open while verifying, issue 5) and in one transaction."""
import threading

import pytest
from sqlalchemy import select

from binding.accounts import build_account_service
from binding.password_flows import login_with_password
from binding.db import transaction
from binding.errors import AccountLocked, InvalidCredentials
from binding.models import AuditEvent
from binding.passwords import PasswordHasher
from config import PasswordSettings
from tests.support.factories import CHEAP_PASSWORD, TEST_IP, fast_settings, make_account  # noqa: F401

THREADS = 200


class CountingHasher(PasswordHasher):
    def __init__(self, settings):
        super().__init__(settings)
        self.verifications = 0
        self._lock = threading.Lock()

    def verify(self, password, stored_hash):
        with self._lock:
            self.verifications += 1
        return super().verify(password, stored_hash)


@pytest.mark.parametrize("one_transaction, on_engine", [(False, False), (False, True), (True, False)],
                         ids=["verify-outside-transactions", "verify-outside-transactions-core", "one-transaction"])
def test_200_concurrent_wrong_passwords_lead_to_exactly_5_verifications(db, engine, fast_settings, redis_client, clock,
                                                                        one_transaction, on_engine):
    hasher = CountingHasher(PasswordSettings(**CHEAP_PASSWORD))
    with transaction(db) as s:
        victim_id = make_account(s, username="victim", hasher=hasher).id
    barrier = threading.Barrier(THREADS)
    outcomes, lock = [], threading.Lock()

    def service(s):
        return build_account_service(s, settings=fast_settings, redis=redis_client, clock=clock, ip=TEST_IP,
                                     hasher=hasher)

    def worker():
        barrier.wait(timeout=60)
        try:
            if one_transaction:
                with transaction(db) as s:
                    service(s).login_password("victim", "Wrong@pass2026", captcha_passed=True)
            else:
                login_with_password(engine if on_engine else db, service, "victim", "Wrong@pass2026",
                                    captcha_passed=True)
            outcome = "signed in"
        except Exception as exc:  # every outcome is collected and checked below
            outcome = exc
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)

    assert len(outcomes) == THREADS
    assert hasher.verifications == 5
    wrong = [o for o in outcomes if isinstance(o, InvalidCredentials)]
    locked = [o for o in outcomes if isinstance(o, AccountLocked)]
    assert len(wrong) == 5 and len(locked) == THREADS - 5, [o for o in outcomes if o not in wrong + locked][:3]
    assert sorted(o.data["attempts_left"] for o in wrong) == [0, 1, 2, 3, 4]
    with transaction(db) as s:   # the refusals' records were committed
        recorded = s.scalars(select(AuditEvent.event).where(AuditEvent.account_id == victim_id)).all()
    assert sorted(recorded) == ["account.locked"] + ["login.failed"] * 5
