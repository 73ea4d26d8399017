"""What downstream portals learn about a user (issue 3 "Claims", DOMAIN rule 23).

``acr`` values: ``urn:tongxing:cert:<level>`` with the certification level of THIS login
(DOMAIN "Certification levels": 1 account, 2 account + phone, 3 real-name, 4 face).
``amr`` values: pwd, sms, qr, fed. ``account_kind``: personal or legal.
Scope ``enterprise``: the bound enterprise as certified upstream; downstream cannot change it.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from binding.models import Account, AccountKind, EnterpriseBinding, Membership, MembershipRole

from .policy import EnterpriseFacts, LoginFacts


def account_kind_claim(account: Account) -> str:
    return "legal" if account.kind == AccountKind.ENTERPRISE else "personal"


def enterprise_facts(db: Session, account: Account) -> EnterpriseFacts | None:
    """The unit of ``account`` (rule 13: at most one): its active membership, or the enterprise
    it holds the certified binding of."""
    membership = db.scalar(select(Membership).where(Membership.account_id == account.id,
                                                    Membership.status == "active"))
    binding = None
    if membership is not None:
        enterprise = membership.enterprise
        role = membership.role
    else:
        binding = db.scalar(select(EnterpriseBinding).where(EnterpriseBinding.account_id == account.id))
        if binding is None:
            return None
        enterprise, role = binding.enterprise, MembershipRole.ADMIN
    if binding is None:
        binding = db.scalar(select(EnterpriseBinding).where(EnterpriseBinding.enterprise_id == enterprise.id))
    categories = tuple({"name": c.get("name"), "valid_until": c.get("valid_until")}
                       for c in (enterprise.categories or []))
    return EnterpriseFacts(name=enterprise.name, uscc=enterprise.uscc, role=role,
                           certified=binding is not None, categories=categories)


def login_facts(db: Session, account: Account, cert_level: int, account_kind: str | None = None, *,
                with_enterprise: bool = True) -> LoginFacts:
    """``account_kind``: what the upstream certified for THIS login (issue 4, rule 9); a local
    login (None) is judged by the account's own kind. ``with_enterprise=False`` skips the
    enterprise queries when the policy does not read them (``ClientPolicy.needs_enterprise``)."""
    return LoginFacts(cert_level=cert_level, account_kind=account_kind or account_kind_claim(account),
                      enterprise=enterprise_facts(db, account) if with_enterprise else None)


def _phone_e164(phone: str) -> str:
    # Mainland mobile numbers are stored as 11 digits; OIDC Core §5.1 recommends E.164.
    return "+86" + phone if phone.isdigit() and len(phone) == 11 else phone


def user_claims(db: Session, account: Account, scope: str, login_kind: str | None = None) -> dict:
    """Claims for ``scope`` (OpenID Connect Core §5.4 + the ``enterprise`` scope).

    ``login_kind``: the kind the upstream certified for THIS login when federated (issue 4);
    None for a local login, described by the account's own kind. **Decision** (rules 12, 23):
    ``enterprise`` is sent only for a local login or a legal-person login: a personal identity
    linked to an enterprise's account certifies no enterprise, so its login carries none."""
    scopes = set(scope.split())
    kind = login_kind or account_kind_claim(account)
    claims: dict = {"sub": account.public_id, "account_kind": kind}
    if "profile" in scopes:
        claims["name"] = account.display_name or account.username
        claims["preferred_username"] = account.username
    if "phone" in scopes and account.phone:
        claims["phone_number"] = _phone_e164(account.phone)
        claims["phone_number_verified"] = bool(account.phone_verified)
    if "enterprise" in scopes and (login_kind is None or login_kind == "legal"):
        facts = enterprise_facts(db, account)
        claims["enterprise"] = None if facts is None else {
            "name": facts.name, "uscc": facts.uscc, "role": facts.role, "certified": facts.certified,
            "categories": [dict(c) for c in facts.categories],
        }
    return claims


__all__ = ["account_kind_claim", "enterprise_facts", "login_facts", "user_claims"]
