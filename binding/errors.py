"""Typed domain errors with stable codes. The broker maps them to HTTP in one place."""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal the user can act on: a stable ``code``, messages in Chinese and English,
    optionally the form ``field`` at fault, and extra data for programs (``attempts_left``...)."""

    code = "invalid_request"
    # True when the refusal itself records something that must outlive it (a failed-login
    # audit row, a code's wrong-try count): ``binding.db.transaction`` then commits, not rolls back.
    keeps_changes = False

    def __init__(self, zh: str, en: str, *, code: str | None = None, field: str | None = None, **data: Any):
        super().__init__(en)
        if code:
            self.code = code
        self.zh = zh
        self.en = en
        self.field = field
        self.data = data

    def message(self, locale: str) -> str:
        return self.zh if locale == "zh" else self.en


class ValidationFailed(DomainError):
    """One or more fields are invalid: ``errors`` maps field -> (zh, en)."""

    code = "invalid_fields"

    def __init__(self, errors: dict[str, tuple[str, str]]):
        self.errors = errors
        first = next(iter(errors.values()))
        super().__init__(first[0], first[1], field=next(iter(errors)))


class InvalidCredentials(DomainError):
    code = "invalid_credentials"


class AccountLocked(DomainError):
    code = "account_locked"


class CaptchaRequired(DomainError):
    code = "captcha_required"


class InvalidCode(DomainError):
    code = "invalid_code"


class RateLimited(DomainError):
    code = "rate_limited"


class AccountDisabled(DomainError):
    code = "account_disabled"


class Conflict(DomainError):
    code = "conflict"


class NotFound(DomainError):
    code = "not_found"
