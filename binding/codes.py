"""One-time SMS / email codes (rules 1, 2, 5; issue 2 "Codes").

6 digits from ``secrets`` (a CSPRNG); only HMAC-SHA256(secret, purpose|recipient|code) is
stored, so a database leak reveals no live code. A code lives ``ttl_seconds`` (5 minutes), is
single use, dies after ``max_attempts`` wrong tries, and issuing a new code for the same
(purpose, recipient) invalidates the older ones.

A wrong try must stay counted although the caller's transaction ends in an error: the
InvalidCode raised for it is marked ``keeps_changes`` (see ``binding.db.transaction``).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from config import Clock, CodeSettings

from .errors import InvalidCode
from .models import OneTimeCode

PURPOSES = ("register", "login", "reset", "email_login", "email_verify")

_WRONG = ("验证码错误", "Wrong code")
_EXPIRED = ("验证码已过期，请重新获取", "The code has expired; request a new one")
_USED = ("验证码已使用或已失效，请重新获取", "The code was already used or replaced; request a new one")
_REPLACED = ("该验证码已被新发送的验证码取代，请使用最新的验证码",
             "A newer code was sent since; use the latest code")
_DEAD = ("验证码错误次数过多，已失效，请重新获取", "Too many wrong tries: the code is no longer valid; request a new one")


class CodeService:
    def __init__(self, db: Session, settings: CodeSettings, clock: Clock, secret: bytes):
        self.db = db
        self.settings = settings
        self.clock = clock
        self._secret = secret

    def issue(self, purpose: str, recipient: str) -> str:
        """A fresh code for (purpose, recipient); returns the plain code for the notifier only."""
        if purpose not in PURPOSES:
            raise ValueError(f"unknown code purpose {purpose!r}")
        now = self.clock()
        self.db.execute(
            update(OneTimeCode)
            .where(OneTimeCode.purpose == purpose, OneTimeCode.recipient == recipient,
                   OneTimeCode.consumed_at.is_(None))
            .values(consumed_at=now)
        )
        code = f"{secrets.randbelow(10 ** self.settings.length):0{self.settings.length}d}"
        self.db.add(OneTimeCode(
            purpose=purpose, recipient=recipient, code_hash=self._digest(purpose, recipient, code),
            created_at=now, expires_at=now + timedelta(seconds=self.settings.ttl_seconds), attempts=0,
        ))
        self.db.flush()
        return code

    def verify(self, purpose: str, recipient: str, code: str, *, use: bool = True) -> None:
        """Consume the live code if ``code`` matches; else raise InvalidCode (field ``code``)
        saying whether it was wrong, expired, used or worn out by wrong tries. ``use=False``
        checks only: a wrong try still counts, a right code stays live (for a caller that
        hashes a password before the transaction that uses the code: issue 5)."""
        now = self.clock()
        row = self.db.scalars(
            select(OneTimeCode)
            .where(OneTimeCode.purpose == purpose, OneTimeCode.recipient == recipient)
            .order_by(OneTimeCode.created_at.desc(), OneTimeCode.id.desc())
            .limit(1)
            .with_for_update()
        ).first()
        if row is None:
            raise _invalid(_WRONG, "wrong")
        if row.consumed_at is not None:
            raise _invalid(_USED, "used")
        if now >= row.expires_at:
            raise _invalid(_EXPIRED, "expired")
        if row.attempts >= self.settings.max_attempts:
            raise _invalid(_DEAD, "exhausted")
        expected = self._digest(purpose, recipient, (code or "").strip())
        if not hmac.compare_digest(row.code_hash, expected):
            if self._matches_older(purpose, recipient, row.id, expected):
                raise _invalid(_REPLACED, "replaced")  # not a guess: the user's own earlier code
            row.attempts += 1
            self.db.flush()
            if row.attempts >= self.settings.max_attempts:
                raise _invalid(_DEAD, "exhausted")
            raise _invalid(_WRONG, "wrong")
        if use:
            row.consumed_at = now
            self.db.flush()

    def _matches_older(self, purpose: str, recipient: str, newest_id: int, expected: str) -> bool:
        older = self.db.scalars(select(OneTimeCode.code_hash).where(
            OneTimeCode.purpose == purpose, OneTimeCode.recipient == recipient, OneTimeCode.id != newest_id))
        return any(hmac.compare_digest(stored, expected) for stored in older)

    def _digest(self, purpose: str, recipient: str, code: str) -> str:
        message = f"{purpose}|{recipient}|{code}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()


def _invalid(message: tuple[str, str], reason: str) -> InvalidCode:
    error = InvalidCode(message[0], message[1], field="code", reason=reason)
    error.keeps_changes = True
    return error


__all__ = ["CodeService", "PURPOSES"]
