"""The demo cast of shared/DEMO.md: enterprises A-D and the six local accounts.

Keep names, passwords and phones exactly as DEMO.md has them: people and checks type them.
Later features seed their own parts through ``SEED_EXTRAS``.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from binding.audit import Audit
from binding.models import Account, AccountKind, Enterprise, EnterpriseBinding, Membership, MembershipRole
from config import Clock, Settings

CATEGORY_VALID_UNTIL = "2027-12-31"


@dataclass(frozen=True)
class DemoEnterprise:
    key: str
    name: str
    uscc: str
    region: str
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    phone: str
    kind: str
    note: str
    staff_role: str | None = None
    staff_region: str | None = None


ENTERPRISES = (
    DemoEnterprise("A", "北京示例科技有限公司", "91110108MA01BJ2K6M", "110108", ("创新型中小企业",)),
    DemoEnterprise("B", "烟台示例新材料有限公司", "91370600MA3YT0C83M", "370600"),
    DemoEnterprise("C", "北京朝阳示例服务有限公司", "91110105MA02CY7D8P", "110105"),
    DemoEnterprise("D", "北京示例精工股份有限公司", "91110114MA04CP5F95", "110114", ("专精特新中小企业",)),
)

ACCOUNTS = (
    DemoAccount("zhangsan", "Zs@demo2026", "13800138001", AccountKind.PERSONAL, "personal, no unit"),
    DemoAccount("lisi", "Ls@demo2026", "13800138003", AccountKind.ENTERPRISE, "admin of unit A, certified binding of A"),
    DemoAccount("wangwu", "Ww@demo2026", "13800138006", AccountKind.PERSONAL, "sub-account applicant of unit A (pending)"),
    DemoAccount("support", "Support@demo2026", "13800138010", AccountKind.STAFF, "support staff", "support"),
    DemoAccount("reviewer-yt", "Review@demo2026", "13800138011", AccountKind.STAFF,
                "department reviewer, region 3706", "reviewer", "3706"),
    DemoAccount("reviewer-bj", "Review@demo2026", "13800138012", AccountKind.STAFF,
                "department reviewer, region 11", "reviewer", "11"),
)

# Later features seed their demo parts here: "module:function", called as function(db, settings, clock)
# after the cast, in the same transaction. Helper D (issue 3) adds the OIDC clients of DEMO.md, e.g.
# "broker.demo.clients:seed_clients". Resolved at seeding time so this module imports nothing extra.
SEED_EXTRAS: list[str] = [
    "binding.oauth.demo:seed_demo_clients",  # issue 3: the downstream clients of DEMO.md
]


def is_seeded(db: Session) -> bool:
    """True once the database holds any account: ``--instance DIR`` keeps a seeded cast."""
    return bool(db.scalar(select(func.count()).select_from(Account)))


def seed_cast(db: Session, settings: Settings, clock: Clock) -> dict[str, object]:
    """Add the cast inside the caller's transaction; returns accounts and enterprises by name/key."""
    from binding.passwords import PasswordHasher

    now = clock()
    hasher = PasswordHasher.for_settings(settings.password)
    enterprises = {e.key: _enterprise(e, now) for e in ENTERPRISES}
    accounts = {a.username: _account(a, hasher, now) for a in ACCOUNTS}
    db.add_all([*enterprises.values(), *accounts.values()])
    db.flush()
    unit_a, lisi, wangwu = enterprises["A"], accounts["lisi"], accounts["wangwu"]
    db.add_all([
        EnterpriseBinding(enterprise_id=unit_a.id, account_id=lisi.id, source="bj-yzt", bound_at=now),
        Membership(account_id=lisi.id, enterprise_id=unit_a.id, role=MembershipRole.ADMIN,
                   status="active", created_at=now),
        Membership(account_id=wangwu.id, enterprise_id=unit_a.id, role=MembershipRole.SUB_ACCOUNT,
                   status="pending", created_at=now),
    ])
    Audit(db, clock).record("demo.seeded", actor="broker demo", accounts=sorted(accounts),
                            enterprises=sorted(enterprises))
    for target in SEED_EXTRAS:
        module, _, name = target.partition(":")
        getattr(importlib.import_module(module), name)(db, settings, clock)
    return {"accounts": accounts, "enterprises": enterprises}


def _enterprise(e: DemoEnterprise, now) -> Enterprise:
    return Enterprise(uscc=e.uscc, name=e.name, region=e.region, created_at=now,
                      categories=[{"name": c, "valid_until": CATEGORY_VALID_UNTIL} for c in e.categories])


def _account(a: DemoAccount, hasher, now) -> Account:
    return Account(username=a.username, phone=a.phone, phone_verified=True, kind=a.kind,
                   password_hash=hasher.hash(a.password), password_changed_at=now, created_at=now,
                   staff_role=a.staff_role, staff_region=a.staff_region)
