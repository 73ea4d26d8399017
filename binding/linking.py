"""Linking upstream identities to local accounts (issue 4 "Linking rules", DOMAIN rules 10-13,
`003` 2.2.2).

``resolve`` decides what a federated login means: linked already -> sign in (rule 10); else a
local account with the same phone, verified on BOTH sides -> link automatically (rule 11,
**Decision**); the same username only -> a conflict the user settles (rename on one side, or
prove ownership by signing in to the local account); nothing -> a new local account. Identities
are keyed by (provider, issuer, subject), never by phone or email.

The service works inside the caller's transaction and never commits; each outcome is audited.
It takes an identity as plain ``UpstreamFacts`` (built from ``providers.base.Identity`` by the
broker): the domain imports no adapter code.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from config import Clock

from .account_lookup import find_by_email, find_by_phone, find_by_username
from .accounts import ensure_can_sign_in
from .audit import Audit
from .errors import Conflict, DomainError, NotFound, ValidationFailed
from .identifiers import mask_phone, normalise_email, normalise_phone
from .models import Account, AccountKind, AccountStatus
from .upstream_models import UpstreamIdentity
from .usernames import username_problem

PERSONAL = "personal"
LEGAL = "legal"

# Outcomes of ``resolve``.
SIGNED_IN = "signed_in"          # rule 10
AUTO_LINKED = "auto_linked"      # rule 11, same verified phone
CONFLICT = "conflict"            # rule 11, same username (or a phone not verified on both sides)
NEW_ACCOUNT = "new_account"      # rule 11, nothing found


@dataclass(frozen=True)
class UpstreamFacts:
    """What an upstream portal certified for one login (mirrors ``providers.base.Identity``)."""

    provider_id: str
    issuer: str
    subject: str
    account_kind: str = PERSONAL
    cert_level: int = 1
    login_name: str | None = None
    phone: str | None = None
    phone_verified: bool = False
    display_name: str | None = None
    enterprise_name: str | None = None
    uscc: str | None = None

    def __post_init__(self) -> None:
        # Upstreams send phones as they like ("+86 138-0013-8001"); local accounts hold the
        # 11-digit form, so compare and store that (rule 11). A phone that is not a mainland
        # mobile number proves nothing: dropped, hence unverified.
        phone = _mobile_or_none(self.phone)
        object.__setattr__(self, "phone", phone)
        object.__setattr__(self, "phone_verified", bool(self.phone_verified) and phone is not None)

    @classmethod
    def from_identity(cls, identity: Any) -> "UpstreamFacts":
        values = {f.name: getattr(identity, f.name) for f in dataclasses.fields(cls) if hasattr(identity, f.name)}
        values["account_kind"] = LEGAL if values.get("account_kind") == LEGAL else PERSONAL
        values["cert_level"] = int(values.get("cert_level") or 1)
        values["phone_verified"] = bool(values.get("phone_verified"))
        return cls(**values)

    @property
    def phone_usable(self) -> bool:
        """A verified phone the new account can take over (else the user proves one, rule 1)."""
        return bool(self.phone and self.phone_verified)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "UpstreamFacts":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Outcome:
    kind: str                                   # SIGNED_IN | AUTO_LINKED | CONFLICT | NEW_ACCOUNT
    account: Account | None = None              # signed in / linked to / in conflict with
    upstream: UpstreamIdentity | None = None
    reason: str | None = None                   # conflict: "username" | "phone"
    suggested_username: str | None = None       # new account: the upstream login name, when free


def kind_taken(provider_name: str, kind: str) -> Conflict:
    """Rule 12: one personal and one legal-person identity per provider on one account."""
    zh_kind, en_kind = ("法人", "legal-person") if kind == LEGAL else ("个人", "personal")
    return Conflict(f"该账号已关联一个{provider_name}的{zh_kind}账号，同一门户的{zh_kind}账号只能关联一个。",
                    f"This account is already linked to a {en_kind} account of {provider_name}; "
                    f"only one {en_kind} account per portal can be linked.",
                    code="identity_kind_taken", account_kind=kind)


def linked_identities(db: Session, account_id: int) -> list[UpstreamIdentity]:
    """The upstream identities linked to an account, oldest link first (the account page, rule 12)."""
    return list(db.scalars(select(UpstreamIdentity).where(UpstreamIdentity.account_id == account_id)
                           .order_by(UpstreamIdentity.linked_at, UpstreamIdentity.id)))


def linked_elsewhere() -> Conflict:
    return Conflict("该上游账号已关联其他本地账号，请先用它登录并在账号页解除关联。",
                    "This upstream account is linked to another local account; sign in with it and unlink "
                    "it on the account page first.", code="identity_linked_elsewhere")


def phone_registered(provider_name: str) -> Conflict:
    """Profile completion: the phone the user typed belongs to another local account (rule 1)."""
    return Conflict(f"该手机号已注册本平台账号。请用该账号登录，然后在账号页关联{provider_name}账号。",
                    f"This phone number is already registered here. Sign in to that account, then link your "
                    f"{provider_name} account from the account page.", code="phone_registered", field="phone")


def last_way_in() -> Conflict:
    return Conflict("这是该账号唯一的登录方式，不能解除关联。请先设置密码或关联其他账号。",
                    "This is the only way to sign in to this account, so it cannot be unlinked. "
                    "Set a password or link another account first.", code="last_sign_in_method")


# An identity by its key (provider, issuer, subject), built once: every federated login runs it.
_BY_KEY = select(UpstreamIdentity).where(
    UpstreamIdentity.provider_id == bindparam("provider_id"), UpstreamIdentity.issuer == bindparam("issuer"),
    UpstreamIdentity.subject == bindparam("subject"))
# ...with its account in the same SELECT, for ``resolve`` (rule 10 signs that account in).
_BY_KEY_WITH_ACCOUNT = _BY_KEY.options(joinedload(UpstreamIdentity.account, innerjoin=True))


class LinkingService:
    """``accounts`` (``binding.accounts.AccountService``) is needed only by the steps that check a
    password or an SMS code: proving ownership, and the phone of a new account. Give it, or
    ``accounts_factory`` to build it on first use (a plain federated login never needs it)."""

    def __init__(self, db: Session, clock: Clock, audit: Audit, accounts: Any = None, *,
                 accounts_factory: Callable[[], Any] | None = None):
        self.db = db
        self.clock = clock
        self.audit = audit
        self._accounts = accounts
        self._accounts_factory = accounts_factory

    @property
    def accounts(self) -> Any:
        if self._accounts is None and self._accounts_factory is not None:
            self._accounts = self._accounts_factory()
        return self._accounts

    # ---- rules 10-11 --------------------------------------------------------------------

    def resolve(self, facts: UpstreamFacts, provider_name: str | None = None) -> Outcome:
        """What this federated login means. Only SIGNED_IN and AUTO_LINKED change anything; the
        caller signs in after ``ensure_can_sign_in`` (checked here, disabled accounts refused)."""
        upstream = self.find(facts, with_account=True)
        if upstream is not None:
            self._ensure_can_sign_in(upstream.account, facts)
            if upstream.account_kind != facts.account_kind:
                # The portal now certifies the other kind (rule 12): refused if the account
                # already holds an identity of that kind at this portal.
                self._check_kind_free(upstream.account_id, facts, provider_name)
            self.record_login(upstream, facts)
            return Outcome(SIGNED_IN, upstream.account, upstream)
        by_phone = find_by_phone(self.db, facts.phone) if facts.phone else None
        if by_phone is not None and by_phone.phone_verified and facts.phone_verified:
            self._ensure_can_sign_in(by_phone, facts)
            upstream = self.link(by_phone, facts, "phone", provider_name)
            self.record_login(upstream, facts)
            return Outcome(AUTO_LINKED, by_phone, upstream)
        by_name = find_by_username(self.db, facts.login_name) if facts.login_name else None
        if by_name is not None or by_phone is not None:
            # A phone match not verified on both sides proves nothing: treated like a name clash.
            other = by_name or by_phone
            reason = "username" if by_name is not None else "phone"
            self.audit.record("federation.conflict", other.id, provider=facts.provider_id, reason=reason,
                              login_name=facts.login_name)
            return Outcome(CONFLICT, other, reason=reason)
        self.audit.record("federation.unmatched", None, provider=facts.provider_id, login_name=facts.login_name)
        return Outcome(NEW_ACCOUNT, suggested_username=self.free_username(facts.login_name))

    def find(self, facts: UpstreamFacts, *, with_account: bool = False) -> UpstreamIdentity | None:
        return self.db.scalar(_BY_KEY_WITH_ACCOUNT if with_account else _BY_KEY,
                              {"provider_id": facts.provider_id, "issuer": facts.issuer, "subject": facts.subject})

    def free_username(self, login_name: str | None) -> str | None:
        """The upstream login name as a local username, when it is valid and free (rule 11)."""
        name = (login_name or "").strip()
        if not name or username_problem(name) or find_by_username(self.db, name) is not None:
            return None
        return name

    # ---- links ------------------------------------------------------------------------------

    def link(self, account: Account, facts: UpstreamFacts, method: str,
             provider_name: str | None = None) -> UpstreamIdentity:
        """Link ``facts`` to ``account`` (rule 12 checked). ``method``: phone | password | created | session.
        Refusals are audited before anything changes (``keeps_changes``)."""
        if self.find(facts) is not None:
            raise self.refused(linked_elsewhere(), account.id, facts)
        self._check_kind_free(account.id, facts, provider_name)
        now = self.clock()
        row = UpstreamIdentity(provider_id=facts.provider_id, issuer=facts.issuer, subject=facts.subject,
                               account_id=account.id, link_method=method, linked_at=now, phone_verified=False,
                               account_kind=facts.account_kind, cert_level=facts.cert_level)
        self._copy(row, facts)
        try:
            with self.db.begin_nested():
                self.db.add(row)
        except IntegrityError:  # a concurrent login linked it first (the savepoint undid the row)
            raise self.refused(linked_elsewhere(), account.id, facts) from None
        row.account = account
        self.audit.record("federation.linked", account.id, provider=facts.provider_id, method=method,
                          account_kind=facts.account_kind, cert_level=facts.cert_level)
        return row

    def link_with_password(self, account: Account, facts: UpstreamFacts,
                           provider_name: str | None = None) -> UpstreamIdentity:
        """Rule 11, the third way out of a username conflict: the user proved ownership of
        ``account`` by signing in to it (password, lockout and captcha rules of a login:
        ``binding.password_flows.login_with_password``, whose transaction this runs in), then links."""
        self._ensure_can_sign_in(account, facts)
        upstream = self.link(account, facts, "password", provider_name)
        self.record_login(upstream, facts)
        return upstream

    # ---- new accounts (rule 11, nothing found; rule 1) -----------------------------------------

    def send_profile_code(self, phone: str, provider_name: str) -> None:
        """An SMS code for the phone of a new account whose upstream gave no usable one. A
        phone registered to another account is refused: that account should link the portal."""
        phone = normalise_phone(phone)
        if find_by_phone(self.db, phone) is not None:
            raise phone_registered(provider_name)
        self.accounts.send_code("register", phone)

    def create_account(self, facts: UpstreamFacts, *, username: str, display_name: str | None = None,
                       email: str | None = None, phone: str | None = None, code: str | None = None,
                       provider_name: str | None = None) -> tuple[Account, UpstreamIdentity]:
        """Rule 11, nothing found: a new local account (no password) with the basic info the
        user completed, linked to ``facts``. Every local account has a verified phone (rule 1)
        and so a second way in: the upstream's when verified and free, else ``phone`` proved by
        an SMS ``code`` (purpose ``register``, sent by ``send_profile_code``)."""
        if self.find(facts) is not None:
            raise self.refused(linked_elsewhere(), None, facts)
        upstream_phone = facts.phone if facts.phone_usable and not find_by_phone(self.db, facts.phone) else None
        username, display_name, email, phone = self._check_profile(
            username, display_name, email, None if upstream_phone else (phone, code))
        if upstream_phone is None:
            if find_by_phone(self.db, phone) is not None:
                raise phone_registered(provider_name or facts.provider_id)
            self.accounts.codes.verify("register", phone, code)
        account = Account(username=username, phone=upstream_phone or phone, phone_verified=True, email=email,
                          email_verified=False, password_hash=None, display_name=display_name,
                          kind=AccountKind.ENTERPRISE if facts.account_kind == LEGAL else AccountKind.PERSONAL,
                          status=AccountStatus.ACTIVE, created_at=self.clock())
        try:
            with self.db.begin_nested():   # the account and its link together, or neither
                self.db.add(account)
                self.db.flush()
                self.audit.record("account.registered", account.id, kind=account.kind, via=facts.provider_id,
                                  phone_from="upstream" if upstream_phone else "sms")
                upstream = self.link(account, facts, "created")
        except IntegrityError:
            raise Conflict("该用户名或手机号刚刚已被注册，请换一个", "This username or phone was just taken; choose another",
                           field="username") from None
        self.record_login(upstream, facts)
        return account, upstream

    def _check_profile(self, username: str | None, display_name: str | None, email: str | None,
                       typed_phone: tuple[str | None, str | None] | None) -> tuple[str, str | None, str | None, str | None]:
        """The profile fields, cleaned; every problem at once (ValidationFailed). ``typed_phone``
        is (phone, code) when the user must give a phone."""
        errors: dict[str, tuple[str, str]] = {}
        phone = self._typed_phone(*typed_phone, errors) if typed_phone is not None else None
        username = (username or "").strip()
        problem = username_problem(username)
        if problem:
            errors["username"] = problem
        elif find_by_username(self.db, username) is not None:
            errors["username"] = ("该用户名已被占用，请换一个", "This username is taken; choose another")
        display_name = (display_name or "").strip() or None
        if display_name and len(display_name) > 64:
            errors["display_name"] = ("姓名最多 64 个字符", "The name may have at most 64 characters")
        email = (email or "").strip() or None
        if email:
            try:
                email = normalise_email(email)
            except ValidationFailed as exc:
                errors.update(exc.errors)
            else:
                if find_by_email(self.db, email) is not None:
                    errors["email"] = ("该邮箱已被其他账号使用", "This email is used by another account")
        if errors:
            raise ValidationFailed(errors)
        return username, display_name, email, phone

    def record_login(self, upstream: UpstreamIdentity, facts: UpstreamFacts) -> None:
        """Level and kind are read from the upstream at every login (rule 8): keep the latest."""
        previous = upstream.cert_level
        self._copy(upstream, facts)
        upstream.cert_level = facts.cert_level
        upstream.last_login_at = self.clock()
        self.audit.record("login.succeeded", upstream.account_id, method="fed", provider=facts.provider_id,
                          account_kind=facts.account_kind, cert_level=facts.cert_level,
                          previous_cert_level=previous)

    # ---- the account page -------------------------------------------------------------------

    def linked(self, account_id: int) -> list[UpstreamIdentity]:
        return linked_identities(self.db, account_id)

    def unlink(self, account: Account, upstream_id: int) -> UpstreamIdentity:
        """Unlink one identity, except the last way ``account`` can sign in (issue 4).

        The account row is locked first (SELECT ... FOR UPDATE): two concurrent unlinks of its
        last two identities would otherwise both count the other one and leave no way in."""
        self.db.execute(select(Account.id).where(Account.id == account.id).with_for_update())
        self.db.refresh(account)
        row = self.db.get(UpstreamIdentity, upstream_id, populate_existing=True)
        if row is None or row.account_id != account.id:
            raise NotFound("没有找到该关联账号", "No such linked account")
        others = [r for r in self.linked(account.id) if r.id != row.id]
        if not others and not other_ways_in(account):
            raise self.refused(last_way_in(), account.id, None, provider=row.provider_id)
        self.db.delete(row)
        self.audit.record("federation.unlinked", account.id, provider=row.provider_id,
                          account_kind=row.account_kind)
        return row

    # ---- helpers ----------------------------------------------------------------------------

    def refused(self, error: DomainError, account_id: int | None, facts: UpstreamFacts | None,
                **detail: Any) -> DomainError:
        """Audit a refusal (``federation.refused``) and mark it ``keeps_changes``, so the row
        outlives it. Callers refuse before changing anything else in the transaction."""
        if facts is not None:
            detail.setdefault("provider", facts.provider_id)
            detail.setdefault("account_kind", facts.account_kind)
        self.audit.record("federation.refused", account_id, code=error.code, **detail)
        error.keeps_changes = True
        return error

    def _ensure_can_sign_in(self, account: Account, facts: UpstreamFacts) -> None:
        try:
            ensure_can_sign_in(account)
        except DomainError as exc:
            raise self.refused(exc, account.id, facts) from None

    def _check_kind_free(self, account_id: int, facts: UpstreamFacts, provider_name: str | None) -> None:
        """Rule 12: at most one identity of each kind per provider on one account."""
        if self._same_kind(account_id, facts.provider_id, facts.account_kind) is not None:
            raise self.refused(kind_taken(provider_name or facts.provider_id, facts.account_kind), account_id, facts)

    @staticmethod
    def _typed_phone(phone: str | None, code: str | None, errors: dict[str, tuple[str, str]]) -> str | None:
        """The phone typed on the profile page, normalised; problems go into ``errors``."""
        if not (phone or "").strip():
            errors["phone"] = ("请填写手机号并获取短信验证码", "Enter your phone number and get an SMS code")
            return None
        if not (code or "").strip():
            errors["code"] = ("请填写短信验证码", "Enter the SMS code")
        try:
            return normalise_phone(phone)
        except ValidationFailed as exc:
            errors.update(exc.errors)
            return None

    def _same_kind(self, account_id: int, provider_id: str, kind: str) -> UpstreamIdentity | None:
        return self.db.scalar(select(UpstreamIdentity).where(
            UpstreamIdentity.account_id == account_id, UpstreamIdentity.provider_id == provider_id,
            UpstreamIdentity.account_kind == kind))

    @staticmethod
    def _copy(row: UpstreamIdentity, facts: UpstreamFacts) -> None:
        row.account_kind = facts.account_kind
        row.login_name = facts.login_name
        row.display_name = facts.display_name
        row.phone = facts.phone
        row.phone_verified = facts.phone_verified
        row.enterprise_name = facts.enterprise_name
        row.uscc = facts.uscc


def _mobile_or_none(phone: Any) -> str | None:
    if not isinstance(phone, str) or not phone.strip():
        return None
    try:
        return normalise_phone(phone)
    except ValidationFailed:
        return None


def other_ways_in(account: Account) -> bool:
    """Ways to sign in besides upstream identities (rule 2): a password, or a verified phone
    (SMS code) or email (email code). **Decision**: a verified phone or email counts."""
    return bool(account.password_hash or (account.phone and account.phone_verified)
                or (account.email and account.email_verified))


def masked(upstream: UpstreamIdentity) -> dict[str, Any]:
    """What the account page shows of a linked identity (no full phone numbers)."""
    return {"id": upstream.id, "provider_id": upstream.provider_id, "account_kind": upstream.account_kind,
            "cert_level": upstream.cert_level, "login_name": upstream.login_name,
            "phone": mask_phone(upstream.phone) if upstream.phone else None,
            "enterprise_name": upstream.enterprise_name, "uscc": upstream.uscc,
            "linked_at": upstream.linked_at, "last_login_at": upstream.last_login_at}


__all__ = ["AUTO_LINKED", "CONFLICT", "LEGAL", "LinkingService", "NEW_ACCOUNT", "Outcome", "PERSONAL",
           "SIGNED_IN", "UpstreamFacts", "kind_taken", "last_way_in", "linked_elsewhere", "linked_identities",
           "masked", "other_ways_in", "phone_registered"]
