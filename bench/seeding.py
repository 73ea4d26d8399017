"""What the scenarios need in the database: the demo cast and its OIDC clients (broker.demo.seed),
``bench-NNNNNNN`` accounts sharing one precomputed argon2 hash (password ``Bench@pass2026``), and
for the scale scenario one million accounts and 200,000 enterprises loaded with PostgreSQL COPY."""
from __future__ import annotations

import sys
import time
from datetime import datetime, timezone

from sqlalchemy import MetaData, insert, select
from sqlalchemy.engine import Engine

from binding.db import make_session_factory, transaction
from binding.models import Account, AccountKind, AccountStatus, new_public_id
from binding.passwords import PasswordHasher
from config import Settings, system_clock

BENCH_PASSWORD = "Bench@pass2026"
SCALE_ACCOUNTS, SCALE_ENTERPRISES = 1_000_000, 200_000


def reset_database(engine: Engine) -> None:
    """Drop every table (DATABASE_URL must name a database of the bench's own; the README says so)."""
    meta = MetaData()
    meta.reflect(engine)
    meta.drop_all(engine)


def seed_demo(engine: Engine, settings: Settings) -> None:
    from broker.demo.seed import seed_cast

    with transaction(make_session_factory(engine)) as db:
        seed_cast(db, settings, system_clock)


def bench_hash(settings: Settings) -> str:
    return PasswordHasher.for_settings(settings.password).hash(BENCH_PASSWORD)


def seed_bench_accounts(engine: Engine, settings: Settings, count: int) -> None:
    """``bench-0000001`` .. ``bench-<count>``: personal accounts, one shared hash (inserting
    thousands of distinct argon2 hashes would cost minutes and change nothing measured)."""
    hashed, now = bench_hash(settings), datetime.now(timezone.utc)
    rows = [dict(public_id=new_public_id(), username="bench-%07d" % i, phone=None, phone_verified=False,
                 email=None, email_verified=False, password_hash=hashed, kind=AccountKind.PERSONAL,
                 status=AccountStatus.ACTIVE, created_at=now, password_changed_at=now)
            for i in range(1, count + 1)]
    with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(insert(Account), rows[start:start + 5000])


def account_count(engine: Engine) -> int:
    from sqlalchemy import func

    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Account))


class Progress:
    """A one-line text progress bar on stderr (no extra dependency)."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.done, self.started = label, total, 0, time.monotonic()

    def add(self, n: int) -> None:
        self.done += n
        frac = self.done / self.total
        rate = self.done / max(time.monotonic() - self.started, 1e-9)
        bar = "#" * int(30 * frac)
        sys.stderr.write(f"\r  {self.label:<12} [{bar:<30}] {self.done:>9,}/{self.total:,}  {rate:>9,.0f} rows/s")
        if self.done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def seed_scale(engine: Engine, settings: Settings, accounts: int = SCALE_ACCOUNTS,
               enterprises: int = SCALE_ENTERPRISES, chunk: int = 50_000) -> float:
    """COPY ``scale-NNNNNNN`` accounts (the first ``enterprises`` of them enterprise admins, each
    with its own enterprise, binding and membership) into PostgreSQL; returns seconds taken."""
    assert engine.dialect.name == "postgresql", "the scale scenario needs PostgreSQL"
    started = time.monotonic()
    hashed, now = bench_hash(settings), datetime.now(timezone.utc).isoformat()
    raw = engine.raw_connection()
    try:
        cur = raw.driver_connection.cursor()
        first_account = _next_id(cur, "accounts")
        first_enterprise = _next_id(cur, "enterprises")
        bar = Progress("accounts", accounts)
        for lo in range(0, accounts, chunk):
            with cur.copy("COPY accounts (id, public_id, username, phone, phone_verified, email_verified, "
                          "password_hash, kind, status, created_at, password_changed_at) FROM STDIN") as copy:
                for i in range(lo, min(lo + chunk, accounts)):
                    kind = AccountKind.ENTERPRISE if i < enterprises else AccountKind.PERSONAL
                    copy.write_row((first_account + i, new_public_id(), "scale-%07d" % i, "139%08d" % i, True,
                                    False, hashed, kind, AccountStatus.ACTIVE, now, now))
            bar.add(min(chunk, accounts - lo))
        bar = Progress("enterprises", enterprises)
        for lo in range(0, enterprises, chunk):
            hi = min(lo + chunk, enterprises)
            with cur.copy("COPY enterprises (id, uscc, name, region, categories, created_at) FROM STDIN") as copy:
                for i in range(lo, hi):
                    copy.write_row((first_enterprise + i, "92%016d" % i, f"规模测试企业 {i}", "370600", "[]", now))
            with cur.copy("COPY enterprise_bindings (enterprise_id, account_id, source, bound_at) FROM STDIN") as copy:
                for i in range(lo, hi):
                    copy.write_row((first_enterprise + i, first_account + i, "bench", now))
            with cur.copy("COPY memberships (account_id, enterprise_id, role, status, created_at) FROM STDIN") as copy:
                for i in range(lo, hi):
                    copy.write_row((first_account + i, first_enterprise + i, "admin", "active", now))
            bar.add(hi - lo)
        for table in ("accounts", "enterprises"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        raw.commit()
        # VACUUM (ANALYZE), not only ANALYZE: two million inserted rows otherwise trigger
        # autovacuum's insert threshold on the database server's CPU during the measured logins
        # (one run: p90 63-73 ms at 1M accounts against 53-55 ms on the demo data).
        raw.driver_connection.autocommit = True   # VACUUM cannot run inside a transaction
        try:
            cur.execute("VACUUM (ANALYZE)")
            # Write the seed's dirty pages out now: a checkpoint of ~1 GB of WAL otherwise lands in
            # the middle of the measured logins (p99 of one run 32 ms, the next two 50 ms). Needs a
            # superuser (the bench's own server); without one the measurement just starts sooner.
            try:
                cur.execute("CHECKPOINT")
            except Exception:
                pass
        finally:
            raw.driver_connection.autocommit = False
    finally:
        raw.close()
    return time.monotonic() - started


def _next_id(cur, table: str) -> int:
    cur.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
    return cur.fetchone()[0]
