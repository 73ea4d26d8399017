"""Client policies: who may sign into a downstream portal (DOMAIN rules 8, 9, 24).

Pure rules: ``check(policy, facts, today)`` lists every shortfall of a login, each with a
stable code the pages turn into guidance. Checked on every authorization, not only the first.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping

ACCOUNT_KINDS = ("any", "legal", "personal")


@dataclass(frozen=True)
class ClientPolicy:
    min_cert_level: int = 1
    account_kind: str = "any"                      # any | legal | personal (rule 9)
    requires_certified_enterprise: bool = False    # a certified enterprise binding (rules 14, 23)
    enterprise_categories: tuple[str, ...] = ()    # any one, still valid (rule 24)
    first_party: bool = False                      # skips the consent page

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> "ClientPolicy":
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"unknown policy keys {', '.join(unknown)}")
        data = dict(raw)
        if "enterprise_categories" in data:
            data["enterprise_categories"] = tuple(data["enterprise_categories"])
        return cls(**data)

    @property
    def needs_enterprise(self) -> bool:
        """Only these rules read the enterprise facts (rules 23, 24), so only they fetch them."""
        return self.requires_certified_enterprise or bool(self.enterprise_categories)

    def as_dict(self) -> dict:
        return {"min_cert_level": self.min_cert_level, "account_kind": self.account_kind,
                "requires_certified_enterprise": self.requires_certified_enterprise,
                "enterprise_categories": list(self.enterprise_categories), "first_party": self.first_party}


def policy_problems(policy: ClientPolicy) -> list[str]:
    problems = []
    if not isinstance(policy.min_cert_level, int) or not 1 <= policy.min_cert_level <= 5:
        problems.append("min_cert_level: must be 1 to 5")
    if policy.account_kind not in ACCOUNT_KINDS:
        problems.append(f"account_kind: must be one of {', '.join(ACCOUNT_KINDS)}")
    return problems


@dataclass(frozen=True)
class EnterpriseFacts:
    name: str
    uscc: str
    role: str                          # admin | sub_account
    certified: bool                    # a certified binding (EnterpriseBinding), not only membership
    categories: tuple[dict, ...] = ()  # {"name": ..., "valid_until": "YYYY-MM-DD" | None}


@dataclass(frozen=True)
class LoginFacts:
    cert_level: int
    account_kind: str                  # "personal" | "legal"
    enterprise: EnterpriseFacts | None = None


@dataclass(frozen=True)
class Shortfall:
    code: str                          # cert_level | account_kind | enterprise_required | enterprise_category
    data: dict = field(default_factory=dict)

    @property
    def unmet_authentication(self) -> bool:
        """A level shortfall is an authentication requirement (OpenID Unmet Authentication
        Requirements 1.0); the others are plain refusals (access_denied)."""
        return self.code == "cert_level"


def valid_categories(enterprise: EnterpriseFacts, today: date) -> list[str]:
    names = []
    for cat in enterprise.categories:
        until = cat.get("valid_until")
        if until is None or date.fromisoformat(until) >= today:
            names.append(cat["name"])
    return names


def check(policy: ClientPolicy, facts: LoginFacts, today: date, *, min_level: int = 1) -> list[Shortfall]:
    """Every way ``facts`` falls short of ``policy`` (``min_level``: from acr_values)."""
    shortfalls = []
    needed = max(policy.min_cert_level, min_level)
    if facts.cert_level < needed:
        shortfalls.append(Shortfall("cert_level", {"needed": needed, "have": facts.cert_level}))
    if policy.account_kind != "any" and facts.account_kind != policy.account_kind:
        shortfalls.append(Shortfall("account_kind", {"needed": policy.account_kind, "have": facts.account_kind}))
    if policy.needs_enterprise and (facts.enterprise is None or not facts.enterprise.certified):
        shortfalls.append(Shortfall("enterprise_required"))
    elif policy.enterprise_categories:
        have = valid_categories(facts.enterprise, today)
        if not set(have) & set(policy.enterprise_categories):
            shortfalls.append(Shortfall("enterprise_category", {
                "needed": list(policy.enterprise_categories), "have": have, "enterprise": facts.enterprise.name}))
    return shortfalls


__all__ = ["ClientPolicy", "EnterpriseFacts", "LoginFacts", "Shortfall", "check", "policy_problems",
           "valid_categories"]
