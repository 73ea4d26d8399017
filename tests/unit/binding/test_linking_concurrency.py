"""Two concurrent unlinks of an account's last two identities: exactly one may win, or the
account is left with no way in (issue 4 "except the last way it can sign in"). Real threads,
each with its own session and transaction on the real database; ``unlink`` locks the account
row first (SQLite serialises writers anyway; PostgreSQL needs the lock)."""
import threading

from binding.audit import Audit
from binding.db import transaction
from binding.errors import Conflict
from binding.linking import LinkingService, UpstreamFacts
from binding.models import Account
from tests.support.factories import make_account


def test_concurrent_unlinks_never_remove_the_last_way_in(db, clock):
    with transaction(db) as s:
        account = make_account(s, password=None, phone_verified=False)
        svc = LinkingService(s, clock, Audit(s, clock))
        rows = [svc.link(account, UpstreamFacts("sd-portal", "iss", f"sub-{kind}", account_kind=kind), "session")
                for kind in ("personal", "legal")]
        account_id, ids = account.id, [r.id for r in rows]
    barrier = threading.Barrier(2)
    outcomes, lock = [], threading.Lock()

    def worker(identity_id):
        barrier.wait(timeout=30)
        try:
            with transaction(db) as s:
                LinkingService(s, clock, Audit(s, clock)).unlink(s.get(Account, account_id), identity_id)
            outcome = "unlinked"
        except Exception as exc:  # every outcome is collected and checked below
            outcome = exc
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=worker, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert sorted(map(str, outcomes)).count("unlinked") == 1, outcomes
    [refused] = [o for o in outcomes if o != "unlinked"]
    assert isinstance(refused, Conflict) and refused.code == "last_sign_in_method"
    with transaction(db) as s:
        assert len(LinkingService(s, clock, Audit(s, clock)).linked(account_id)) == 1
