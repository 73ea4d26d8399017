"""Local accounts: registration, the login paths, codes, password reset and change, staff
unlock / disable (DOMAIN rules 1-5; issue 2 "Local accounts" and "Lockout").

The service works inside the caller's transaction and never commits (use
``binding.db.transaction``); ``binding.password_flows`` runs its steps in transactions of their
own, so that none is open while a password is hashed or verified (issue 5). Refusals are
``binding.errors`` classes with ``field`` set for forms. A refusal that records something (failed-login audit rows, a
code's wrong tries) is marked ``keeps_changes`` so ``transaction`` commits those records before
it propagates; every other refusal changes nothing.
"""
from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Callable, NoReturn

from redis import Redis
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config import Clock, Settings
from lockout import Attempt, IpThrottle, LoginGuard, SendLimiter

from . import account_messages as msg
from .account_lookup import (account_for_update, find_by_email, find_by_identifier, find_by_login, find_by_phone,
                             find_by_username, password_of)
from .audit import Audit
from .codes import CodeService
from .errors import CaptchaRequired, Conflict, InvalidCode, ValidationFailed
from .identifiers import classify_identifier, mask_email, mask_phone, normalise_email, normalise_phone
from .models import Account, AccountKind, AccountStatus, can_sign_in
from .notify import Notifier, build_notifier, code_email, code_sms, email_verification
from .passwords import PasswordHasher, password_problem
from .usernames import username_problem

SMS_PURPOSES = ("register", "login", "reset")
# Stands for the client address where there is none (CLI, scripts): one shared IP bucket.
NO_IP = "local"


def ensure_can_sign_in(account: Account) -> None:
    """``can_sign_in`` for the login paths (password, codes, federated, QR): refuse with a
    clear error."""
    if not can_sign_in(account):
        raise msg.disabled()


def local_cert_level(account: Account) -> int:
    """Certification level from the local account alone (DOMAIN "Certification levels", `003`):
    1 = has an account, 2 = account + verified phone. Higher levels come from upstream portals."""
    return 2 if account.phone and account.phone_verified else 1


@dataclass(frozen=True)
class PasswordCheck:
    """What step 1 of a password login found: the account the identifier names (None: no
    such account), the hash the password is verified against (None: a dummy verification),
    the lock subject and the check slot reserved for this attempt."""

    identifier_kind: str
    account_id: int | None
    password_hash: str | None = dataclasses.field(repr=False)
    subject: str
    attempt: Attempt


class PasswordHashChanged(Exception):
    """Step 3 found another password hash than the one verified: verify against ``check``."""

    def __init__(self, check: PasswordCheck):
        super().__init__("the password hash changed during the login")
        self.check = check


# Verifications of one login attempt when its account's hash keeps changing under it.
_MAX_ROUNDS = 3


class AccountService:
    def __init__(self, db: Session, *, settings: Settings, clock: Clock, guard: LoginGuard,
                 throttle: IpThrottle, limiter: SendLimiter, hasher: PasswordHasher, codes: CodeService,
                 notifier: Notifier, audit: Audit, ip: str | None = None):
        self.db = db
        self.settings = settings
        self.clock = clock
        self.guard = guard
        self.throttle = throttle
        self.limiter = limiter
        self.hasher = hasher
        self.codes = codes
        self.notifier = notifier
        self.audit = audit
        self.ip = ip

    # ---- codes (rules 1, 2, 3, 5) -------------------------------------------------------

    def send_code(self, purpose: str, phone: str) -> None:
        """Send an SMS code for ``purpose`` (register | login | reset) to ``phone``.

        The image captcha (rule 3) is the caller's job, before this call.

        **Decision** (no account enumeration): for ``login`` and ``reset`` a phone that matches
        no account gets nothing sent, yet the answer (and the rate limits spent) is exactly
        that of a success. Only ``register`` says "already registered", which registration
        reveals anyway (rule 1 requires that refusal)."""
        if purpose not in SMS_PURPOSES:
            raise ValueError(f"unknown SMS code purpose {purpose!r}")
        phone = normalise_phone(phone)
        account = find_by_phone(self.db, phone)
        if purpose == "register" and account is not None:
            raise msg.phone_taken()
        self._acquire_send(phone, field="phone")
        if purpose != "register" and account is None:
            return
        code = self.codes.issue(purpose, phone)
        self.notifier.send_sms(phone, code_sms(purpose, code, self._code_minutes()))
        self.audit.record("code.sent", account.id if account else None, channel="sms", purpose=purpose,
                          recipient=mask_phone(phone))

    def send_email_code(self, email: str) -> None:
        """Send an email-login code (rule 2). Same no-enumeration decision as ``send_code``."""
        email = normalise_email(email)
        self._acquire_send(email, field="email")
        account = find_by_email(self.db, email)
        if account is None:
            return
        code = self.codes.issue("email_login", email)
        subject, text = code_email(code, self._code_minutes())
        self.notifier.send_email(email, subject, text)
        self.audit.record("code.sent", account.id, channel="email", purpose="email_login",
                          recipient=mask_email(email))

    def _acquire_send(self, recipient: str, field: str) -> None:
        decision = self.limiter.acquire(recipient, self.ip or NO_IP)
        if decision.allowed:
            return
        raise msg.rate_limited(decision.retry_after, decision.reason, field)

    def _code_minutes(self) -> int:
        return max(1, self.settings.codes.ttl_seconds // 60)

    # ---- registration (rule 1) ----------------------------------------------------------

    def check_registration(self, *, phone: str, code: str, username: str, password: str, kind: str) -> None:
        """Every refusal of ``register``, the code checked but not used (a wrong try counts):
        step 1 of ``binding.password_flows.register_account``, so that no password is hashed
        for a registration that will be refused."""
        self._registration_input(phone, code, username, password, kind, use_code=False)

    def register(self, *, phone: str, code: str, username: str, password: str, kind: str,
                 password_hash: str | None = None) -> Account:
        """A new local account with a verified phone. Malformed input -> ValidationFailed with
        every field at fault; phone registered / username taken (any case) -> Conflict; wrong
        code -> InvalidCode. Nothing is written on refusal (but a wrong try of the code counts).
        ``password_hash``: ``password`` already hashed outside the transaction (issue 5)."""
        phone, username = self._registration_input(phone, code, username, password, kind, use_code=True)
        now = self.clock()
        account = Account(username=username, phone=phone, phone_verified=True, kind=kind,
                          status=AccountStatus.ACTIVE, password_hash=password_hash or self.hasher.hash(password),
                          created_at=now, password_changed_at=now)
        try:
            with self.db.begin_nested():
                self.db.add(account)
        except IntegrityError:  # a concurrent registration took the phone or the name first
            raise Conflict("该手机号或用户名刚刚已被注册", "This phone or username was just registered",
                           field="username") from None
        self.audit.record("account.registered", account.id, kind=kind)
        return account

    def _registration_input(self, phone: str, code: str, username: str, password: str, kind: str, *,
                            use_code: bool) -> tuple[str, str]:
        """(phone, username) normalised, after every check of the input, the phone, the name and the code."""
        username = (username or "").strip()
        errors: dict[str, tuple[str, str]] = {}
        phone = _collect(errors, lambda: normalise_phone(phone))
        problem = username_problem(username)
        if problem:
            errors["username"] = problem
        weak = password_problem(password or "", self.settings.password, username)
        if weak:
            errors["password"] = (weak.zh, weak.en)
        if kind not in AccountKind.SELF_REGISTERED:
            errors["kind"] = ("请选择用户类型：个人或企业", "Choose the user type: personal or enterprise")
        if not (code or "").strip():
            errors["code"] = msg.CODE_MISSING
        if errors:
            raise ValidationFailed(errors)
        if find_by_phone(self.db, phone) is not None:
            raise msg.phone_taken()
        if find_by_username(self.db, username) is not None:
            raise Conflict("该用户名已被占用", "This username is already taken", field="username")
        self.codes.verify("register", phone, code, use=use_code)
        return phone, username

    # ---- password login (rules 2, 4) ----------------------------------------------------

    def login_password(self, identifier: str, password: str, *, captcha_passed: bool) -> Account:
        """Login by username, phone, email or (legal-person accounts) USCC + password, all in the
        caller's transaction, which stays open while the password is verified: for callers
        already inside one. Requests use ``binding.password_flows.login_with_password`` (the
        same steps, with no transaction open during the verification).

        Order (issue 2 "Lockout"): captcha when this IP is over the credential-stuffing
        threshold; then the lock, counted per account whichever identifier was typed, or per
        identifier when none matches (with a dummy verification, so both answer alike); a
        locked subject is refused without checking the password; a wrong password answers
        InvalidCredentials, even the one that starts the lock."""
        check = self.begin_password_login(identifier, password, captcha_passed=captcha_passed)
        return until_current_hash(check, lambda current, final: self.finish_password_login(
            current, self.verify_password(current, password), final=final))

    def begin_password_login(self, identifier: str, password: str, *, captcha_passed: bool) -> PasswordCheck:
        """Step 1 of a password login, reading only: the input, the account the identifier
        names, then in one Redis round trip the captcha (this IP over the threshold) and a check
        slot of the lock (``LoginGuard.begin``). Its refusals (ValidationFailed,
        CaptchaRequired, AccountLocked) record nothing. **Decision** (issue 5): the account is
        read before the captcha is asked, so a request refused for the captcha costs one indexed
        read, and every login one Redis round trip less."""
        errors: dict[str, tuple[str, str]] = {}
        if not (identifier or "").strip():
            errors["username"] = ("请输入用户名、手机号、邮箱或统一社会信用代码",
                                  "Enter a username, phone, email or unified social credit code")
        if not password:
            errors["password"] = ("请输入密码", "Enter the password")
        if errors:
            raise ValidationFailed(errors)
        kind, value = classify_identifier(identifier)
        account = password_of(self.db, kind, value)
        subject = (self.guard.subject_for_account(account.id) if account is not None
                   else self.guard.subject_for_identifier(value))
        attempt = self.guard.begin(subject, self.throttle.gate(self.ip) if self.ip and not captcha_passed else None)
        if attempt.captcha_required:
            raise CaptchaRequired("请先输入图形验证码", "Enter the image captcha first", field="captcha")
        if not attempt.allowed:
            raise msg.locked(attempt.retry_after, attempt.unlock_at)
        return PasswordCheck(kind, account.id if account is not None else None,
                             account.password_hash if account is not None else None, subject, attempt)

    def verify_password(self, check: PasswordCheck, password: str) -> tuple[bool, str | None]:
        """Step 2, touching no database: (matches, new hash to store or None). An identifier
        without an account (or an account without a password) costs a dummy verification."""
        return self._verify(check.password_hash, password)

    def finish_password_login(self, check: PasswordCheck, verdict: tuple[bool, str | None], *,
                              final: bool = True) -> Account:
        """Step 3, in the write transaction: a wrong password records its failure (login.failed,
        account.locked; kept although InvalidCredentials is raised); a right one signs in the
        account as it is NOW (re-read and locked until the commit): refused if disabled since,
        its rehash stored, login.succeeded recorded.

        **Decision**: when the account's hash is no longer the one verified (a password change
        or another login's rehash committed in between), nothing is written and
        ``PasswordHashChanged`` asks the caller to verify the same password against the current
        hash (the guard slot of step 1 still stands: one check, however many verifications).
        A right password after a rehash still signs in; the old password after a change is
        wrong. On the ``final`` round a hash still changing counts as a wrong password."""
        matched, new_hash = verdict
        account = account_for_update(self.db, check.account_id) if matched and check.account_id is not None else None
        if matched and (account is None or account.password_hash != check.password_hash):
            if account is not None and not final:
                raise PasswordHashChanged(dataclasses.replace(check, password_hash=account.password_hash))
            matched = False
        if not matched:
            self._password_failed(check.account_id, check.attempt, check.identifier_kind)
        ensure_can_sign_in(account)
        self.guard.succeeded(check.subject)
        if new_hash:  # legacy scheme or old argon2 parameters: store the current kind of hash
            account.password_hash = new_hash
        self.audit.record("login.succeeded", account.id, method="password", identifier_kind=check.identifier_kind,
                          rehashed=bool(new_hash))
        return account

    def _verify(self, stored_hash: str | None, password: str) -> tuple[bool, str | None]:
        if not stored_hash:
            self.hasher.dummy_verify(password)
            return False, None
        return self.hasher.verify(password, stored_hash)

    def _password_failed(self, account_id: int | None, attempt: Attempt, kind: str,
                         field: str = "password") -> NoReturn:
        """Record a checked-and-wrong password and raise InvalidCredentials (its records kept)."""
        captcha_next = bool(self.ip) and self.throttle.record_failure_needs_captcha(self.ip)
        self.audit.record("login.failed", account_id, method="password", identifier_kind=kind,
                          check_number=attempt.check_number)
        if attempt.starts_lock:
            unlock_at = attempt.unlock_at or self.clock() + timedelta(seconds=self.settings.lockout.window_seconds)
            self.audit.record("account.locked", account_id, unlock_at=unlock_at.isoformat(),
                              subject="account" if account_id is not None else "identifier")
            error = msg.wrong_password_now_locked(unlock_at, attempt.retry_after, field)
        else:
            error = msg.wrong_password(attempt.attempts_left, field)
        if captcha_next:
            error.data["captcha_required"] = True
        error.keeps_changes = True  # the audit rows above must outlive the refusal
        raise error

    # ---- code logins (rule 2): open while the password is locked ------------------------

    def login_phone_code(self, phone: str, code: str) -> Account:
        """Phone + SMS code. Stays open while the password is locked (a stranger's wrong
        passwords cannot lock the owner out, issue 2 "Lockout"); it does not clear that lock."""
        phone = self._code_input(lambda: normalise_phone(phone), code)
        self.codes.verify("login", phone, code)
        account = find_by_phone(self.db, phone)
        if account is None:  # no code is ever sent to an unknown phone; belt and braces
            raise InvalidCode("验证码错误", "Wrong code", field="code")
        ensure_can_sign_in(account)
        account.phone_verified = True
        self.audit.record("login.succeeded", account.id, method="sms")
        return account

    def login_email_code(self, email: str, code: str) -> Account:
        """Email + code (rule 2). Receiving the code proves the mailbox: it becomes verified."""
        email = self._code_input(lambda: normalise_email(email), code)
        self.codes.verify("email_login", email, code)
        account = find_by_email(self.db, email)
        if account is None:
            raise InvalidCode("验证码错误", "Wrong code", field="code")
        ensure_can_sign_in(account)
        account.email_verified = True
        self.audit.record("login.succeeded", account.id, method="email")
        return account

    def _code_input(self, normalise, code: str) -> str:
        errors: dict[str, tuple[str, str]] = {}
        value = _collect(errors, normalise)
        if not (code or "").strip():
            errors["code"] = msg.CODE_MISSING
        if errors:
            raise ValidationFailed(errors)
        return value

    # ---- passwords (rule 5) -------------------------------------------------------------

    def check_password_reset(self, *, phone: str, code: str, new_password: str) -> None:
        """Every refusal of ``reset_password``, the code checked but not used (a wrong try
        counts): step 1 of ``binding.password_flows.reset_password``."""
        self._reset_input(phone, code, new_password, use_code=False)

    def reset_password(self, *, phone: str, code: str, new_password: str,
                       password_hash: str | None = None) -> Account:
        """Forgot password: phone + SMS code (purpose ``reset``) + a new password. A successful
        reset ends the lock (rule 5). The caller ends the account's sessions.
        ``password_hash``: ``new_password`` already hashed outside the transaction (issue 5)."""
        account = self._reset_input(phone, code, new_password, use_code=True)
        self._store_password(account, password_hash or self.hasher.hash(new_password))
        account.phone_verified = True
        subject = self.guard.subject_for_account(account.id)
        was_locked = self.guard.status(subject).locked
        self.guard.unlock(subject)
        self.audit.record("password.reset", account.id)
        if was_locked:
            self.audit.record("account.unlocked", account.id, reason="password_reset")
        return account

    def _reset_input(self, phone: str, code: str, new_password: str, *, use_code: bool) -> Account:
        """The account of ``phone``, after every check of the input and the code."""
        phone = self._code_input(lambda: normalise_phone(phone), code)
        account = find_by_phone(self.db, phone)
        weak = password_problem(new_password or "", self.settings.password,
                                account.username if account else None)
        if weak:  # before the code, so a weak password does not use the code up
            raise ValidationFailed({"password": (weak.zh, weak.en)})
        self.codes.verify("reset", phone, code, use=use_code)
        if account is None:
            raise InvalidCode("验证码错误", "Wrong code", field="code")
        return account

    def change_password(self, account: Account, old: str, new: str) -> None:
        """A signed-in user's change, all in the caller's transaction (which stays open while
        both passwords are hashed); the old password is a password check like a login
        (counted by the lock). The caller ends the other sessions. Requests use
        ``binding.password_flows.change_password``: the same steps, no transaction open meanwhile."""
        check = self.begin_password_change(account.id, new)
        matched, _ = self.verify_password(check, old or "")
        self.finish_password_change(check, matched, self.hasher.hash(new) if matched else None)

    def begin_password_change(self, account_id: int, new: str) -> PasswordCheck:
        """Step 1 of a change, reading only: the new password's strength, then a check slot of
        the account's lock (refused while locked). The old password is verified against the
        returned check's hash (step 2: ``verify_password``)."""
        account = self.db.get(Account, account_id)
        if account is None:
            raise msg.no_account()
        weak = password_problem(new or "", self.settings.password, account.username)
        if weak:
            raise ValidationFailed({"new_password": (weak.zh, weak.en)})
        subject = self.guard.subject_for_account(account.id)
        attempt = self.guard.begin(subject)
        if not attempt.allowed:
            raise msg.locked(attempt.retry_after, attempt.unlock_at)
        return PasswordCheck("session", account.id, account.password_hash, subject, attempt)

    def finish_password_change(self, check: PasswordCheck, matched: bool, new_hash: str | None, *,
                               final: bool = True) -> Account:
        """Step 3, in the write transaction: a wrong old password records its failure like a
        login's (``keeps_changes``); a right one stores ``new_hash`` (the new password, hashed
        in step 2) on the account re-read and locked until the commit. As for a login, an
        account whose hash changed since step 1 asks for another verification
        (``PasswordHashChanged``), on the ``final`` round it counts as a wrong password."""
        account = account_for_update(self.db, check.account_id)
        if account is None:
            raise msg.no_account()
        ensure_can_sign_in(account)   # disabled while the passwords were hashed
        if matched and account.password_hash != check.password_hash:
            if not final:
                raise PasswordHashChanged(dataclasses.replace(check, password_hash=account.password_hash))
            matched = False
        if not matched:
            self._password_failed(account.id, check.attempt, "session", field="old_password")
        if new_hash is None:
            raise ValueError("a right old password needs the new password's hash")
        self.guard.succeeded(check.subject)
        self._store_password(account, new_hash)
        self.audit.record("password.changed", account.id)
        return account

    def _store_password(self, account: Account, password_hash: str) -> None:
        account.password_hash = password_hash
        account.password_changed_at = self.clock()

    # ---- email address (rule 2: email + code login needs a verified address) -------------

    def send_email_verification(self, account: Account, email: str) -> None:
        """Send a code to ``email`` so the signed-in ``account`` can add it or change to it.
        An address of another account is refused (one account per mailbox)."""
        email = normalise_email(email)
        self._refuse_taken_email(account, email)
        self._acquire_send(email, field="email")
        subject, text = email_verification(self.codes.issue("email_verify", email), self._code_minutes())
        self.notifier.send_email(email, subject, text)
        self.audit.record("code.sent", account.id, channel="email", purpose="email_verify",
                          recipient=mask_email(email))

    def confirm_email(self, account: Account, email: str, code: str) -> None:
        """The code sent to ``email`` proves the mailbox: it becomes the account's verified email."""
        email = self._code_input(lambda: normalise_email(email), code)
        self._refuse_taken_email(account, email)
        self.codes.verify("email_verify", email, code)
        previous = account.email
        account.email, account.email_verified = email, True
        try:
            with self.db.begin_nested():
                self.db.flush()
        except IntegrityError:  # another account took it since the check
            raise msg.email_taken() from None
        self.audit.record("email.changed" if previous else "email.added", account.id, email=mask_email(email))

    def _refuse_taken_email(self, account: Account, email: str) -> None:
        holder = find_by_email(self.db, email)
        if holder is not None and holder.id != account.id:
            raise msg.email_taken()

    # ---- staff / CLI --------------------------------------------------------------------

    def unlock(self, login: str, actor: str) -> bool:
        """``broker users unlock LOGIN``: clear the lock of the account behind ``login`` (any
        identifier), or of that identifier when it matches no account. True if anything was
        cleared; NotFound when no account matches and nothing was locked."""
        kind, value = classify_identifier(login)
        account = find_by_identifier(self.db, kind, value)
        subject = (self.guard.subject_for_account(account.id) if account is not None
                   else self.guard.subject_for_identifier(value))
        cleared = self.guard.unlock(subject)
        if account is None and not cleared:
            raise msg.no_account()
        if cleared:
            self.audit.record("account.unlocked", account.id if account else None, actor=actor,
                              reason="manual", subject="account" if account else "identifier")
        return cleared

    def set_disabled(self, login: str, disabled: bool, actor: str) -> Account:
        """Disable or re-enable an account (staff, CLI). The caller ends its sessions."""
        account = find_by_login(self.db, login)
        if account is None:
            raise msg.no_account()
        status = AccountStatus.DISABLED if disabled else AccountStatus.ACTIVE
        if account.status != status:
            account.status = status
            self.audit.record("account.disabled" if disabled else "account.enabled", account.id, actor=actor)
        return account


def until_current_hash(check: PasswordCheck, round_: Callable[[PasswordCheck, bool], Account]) -> Account:
    """Run verify-and-finish rounds until one sees the hash it verified (PasswordHashChanged);
    ``round_(check, final)``."""
    for n in range(1, _MAX_ROUNDS + 1):
        try:
            return round_(check, n == _MAX_ROUNDS)
        except PasswordHashChanged as changed:
            check = changed.check
    raise AssertionError("the final round never asks for another")


def build_account_service(db: Session, *, settings: Settings, redis: Redis, clock: Clock,
                          ip: str | None = None, request_id: str | None = None,
                          notifier: Notifier | None = None, hasher: PasswordHasher | None = None) -> AccountService:
    """The service wired with its real collaborators for one unit of work."""
    key = _secret_key(settings)
    return AccountService(
        db, settings=settings, clock=clock,
        guard=LoginGuard(redis, settings.lockout, clock, identifier_key=_derive(key, b"lockout-identifiers")),
        throttle=IpThrottle(redis, settings.lockout, clock),
        limiter=SendLimiter(redis, settings.codes, clock),
        hasher=hasher or PasswordHasher.for_settings(settings.password),
        codes=CodeService(db, settings.codes, clock, _derive(key, b"one-time-codes")),
        notifier=notifier or build_notifier(db, settings, clock),
        audit=Audit(db, clock, ip=ip, request_id=request_id),
        ip=ip,
    )


def _derive(key: bytes, label: bytes) -> bytes:
    """A separate key per use, so one leaked derived key reveals nothing about the others."""
    return hmac.new(key, b"tongxing:" + label, hashlib.sha256).digest()


def _secret_key(settings: Settings) -> bytes:
    # The app and the CLI always pass a key (development: the instance folder's, see
    # broker.services.with_secret_key); a bare script without one gets one per process.
    return settings.secret_key.encode() if settings.secret_key else _process_secret()


@lru_cache(maxsize=1)
def _process_secret() -> bytes:
    return secrets.token_bytes(32)


def _collect(errors: dict[str, tuple[str, str]], normalise):
    """Run a normaliser, moving its field error into ``errors``."""
    try:
        return normalise()
    except ValidationFailed as exc:
        errors.update(exc.errors)
        return None


__all__ = ["AccountService", "PasswordCheck", "PasswordHashChanged", "build_account_service", "can_sign_in",
           "ensure_can_sign_in", "local_cert_level", "until_current_hash"]
