"""LoginGuard: at most N password checks per subject per window (DOMAIN rule 4, `000` §6).

`000` §6: "when wrong input exceeds 5 times the account is locked; default unlock time 10
minutes". **Decision** (DOMAIN rule 4): at most ``max_failures`` password checks per subject
per ``window_seconds``; the attempt after that, inside the lock, is refused *without*
checking the password, even if it is right. This follows the OWASP Authentication Cheat
Sheet, "Account Lockout" (lock after a threshold, unlock after an observation period).

A check slot is *reserved* before the caller verifies the password (``begin``), in one Lua
script, so any number of concurrent requests against one account lead to at most
``max_failures`` verifications. The ``max_failures``-th reservation sets the lock straight
away; ``succeeded`` removes it again when that last password turns out to be right.

State per subject: one hash ``{n, start, until}`` in milliseconds of the injected clock.
PEXPIRE only garbage-collects it; the windows are computed from ``now``.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from redis import Redis

from config.clock import Clock
from config.settings import LockoutSettings

from . import keys
from .throttle import CaptchaGate
from .timing import ceil_seconds, from_ms, to_ms

# KEYS[1] login hash, KEYS[2] (optional) the IP's failure set; ARGV now_ms, max_failures,
# window_ms, then with KEYS[2] the IP window's start (ms, exclusive) and captcha threshold.
# Returns {allowed 0/1, n, until_ms}, or {-1, 0, 0}: the captcha first, nothing reserved.
_BEGIN = """
if KEYS[2] and redis.call('ZCOUNT', KEYS[2], '(' .. ARGV[4], '+inf') > tonumber(ARGV[5]) then
  return {-1, 0, 0}
end
local now = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local win = tonumber(ARGV[3])
local s = redis.call('HMGET', KEYS[1], 'n', 'start', 'until')
local n = tonumber(s[1]) or 0
local start = tonumber(s[2]) or now
local untl = tonumber(s[3]) or 0
if untl > now then
  return {0, n, untl}
end
-- a lock that has run out, or a window that has passed: start a fresh window
if untl > 0 or now >= start + win then
  n = 0
  start = now
  untl = 0
end
n = n + 1
if n >= max then
  untl = now + win
end
redis.call('HSET', KEYS[1], 'n', n, 'start', start, 'until', untl)
redis.call('PEXPIRE', KEYS[1], math.max(start + win, untl) - now)
return {1, n, untl}
"""

# KEYS[1] login hash; ARGV now_ms, window_ms. Deletes; returns 1 if a lock or live count went.
_UNLOCK = """
local now = tonumber(ARGV[1])
local win = tonumber(ARGV[2])
local s = redis.call('HMGET', KEYS[1], 'n', 'start', 'until')
local n = tonumber(s[1]) or 0
local start = tonumber(s[2]) or 0
local untl = tonumber(s[3]) or 0
redis.call('DEL', KEYS[1])
if untl > now or (untl == 0 and n > 0 and now < start + win) then
  return 1
end
return 0
"""


@dataclass(frozen=True)
class Attempt:
    """The answer of ``LoginGuard.begin``.

    allowed: the caller may verify the password now (and must not when False).
    check_number: 1-based number of this check within the window (0 when refused).
    attempts_left: checks still possible in this window after this one.
    retry_after / unlock_at: when refused, seconds (rounded up) until the lock ends and the
        aware UTC time it ends. For an allowed ``starts_lock`` check they tell when the lock
        this check has set will end if the password is wrong; otherwise 0 / None.
    starts_lock: this is the last check of the window; if it fails the subject is locked.
    captcha_required: refused because the ``CaptchaGate`` given to ``begin`` was shut (the
        captcha first; nothing said about a lock, ``retry_after`` 0): check it before ``allowed``.
    """

    allowed: bool
    check_number: int
    attempts_left: int
    retry_after: int
    unlock_at: datetime | None
    starts_lock: bool
    captcha_required: bool = False


@dataclass(frozen=True)
class LockStatus:
    """locked now; failures: checks counted in the current window; retry_after in seconds."""

    locked: bool
    failures: int
    retry_after: int
    unlock_at: datetime | None


class LoginGuard:
    """Counts password checks per subject in Redis and locks after ``max_failures``.

    A subject is an account (``subject_for_account``) or, for identifiers that match no
    account, the hashed identifier (``subject_for_identifier``), so the answer for a locked
    identifier is the same whether or not the account exists (issue 2, "Lockout").
    """

    def __init__(
        self,
        redis: Redis,
        settings: LockoutSettings,
        clock: Clock,
        *,
        identifier_key: bytes | None = None,
    ):
        self._redis = redis
        self._settings = settings
        self._clock = clock
        # Optional secret: HMAC instead of a plain hash for unknown identifiers, so a phone
        # number cannot be recovered from a key name by trying all 10**11 of them.
        self._identifier_key = identifier_key
        self._begin = redis.register_script(_BEGIN)
        self._unlock = redis.register_script(_UNLOCK)

    @property
    def _window_ms(self) -> int:
        return self._settings.window_seconds * 1000

    def subject_for_account(self, account_id: int) -> str:
        """All identifiers of one account (username, phone, email, USCC) share this subject."""
        return f"acct:{int(account_id)}"

    def subject_for_identifier(self, normalised_identifier: str) -> str:
        """Subject for a typed identifier that matches no account; hashed, never stored raw."""
        if not normalised_identifier:
            raise ValueError("normalised_identifier must not be empty")
        data = normalised_identifier.encode("utf-8")
        if self._identifier_key:
            digest = hmac.new(self._identifier_key, data, hashlib.sha256).hexdigest()
        else:
            digest = hashlib.sha256(b"tongxing-lockout\0" + data).hexdigest()
        return f"ident:{digest[:40]}"

    def begin(self, subject: str, captcha: CaptchaGate | None = None) -> Attempt:
        """Reserve one password check for ``subject``, or refuse because it is locked, or
        (with ``captcha``, ``IpThrottle.gate``) because its IP must pass the captcha first.

        One atomic Lua call: check the IP's captcha threshold, check the lock, count the
        check, set the lock on the ``max_failures``-th. The caller verifies the password only
        when ``allowed``. With a gate the script touches two keys (the subject's, the IP's) in
        one round trip (issue 5): fine on the single Redis the broker uses; under Redis Cluster
        they would sit in different slots, so ask ``IpThrottle.needs_captcha`` first instead.
        """
        now = to_ms(self._clock())
        args = [now, self._settings.max_failures, self._window_ms]
        allowed, n, until = self._begin(
            keys=[keys.login(subject)] + ([captcha.key] if captcha else []),
            args=args + ([captcha.since_ms, captcha.threshold] if captcha else []),
        )
        allowed, n, until = int(allowed), int(n), int(until)
        if allowed < 0:
            return Attempt(False, 0, 0, 0, None, False, captcha_required=True)
        if not allowed:
            return Attempt(False, 0, 0, max(1, ceil_seconds(until - now)), from_ms(until), False)
        starts_lock = until > 0
        return Attempt(
            allowed=True,
            check_number=n,
            attempts_left=max(0, self._settings.max_failures - n),
            retry_after=ceil_seconds(until - now) if starts_lock else 0,
            unlock_at=from_ms(until) if starts_lock else None,
            starts_lock=starts_lock,
        )

    def succeeded(self, subject: str) -> None:
        """The password was right: forget the count and any lock this check had set."""
        self._redis.delete(keys.login(subject))

    def status(self, subject: str) -> LockStatus:
        """Read-only view, e.g. for the admin CLI and the lock message."""
        now = to_ms(self._clock())
        raw = self._redis.hmget(keys.login(subject), "n", "start", "until")
        n, start, until = (int(v) if v is not None else 0 for v in raw)
        if until > now:
            return LockStatus(True, n, max(1, ceil_seconds(until - now)), from_ms(until))
        live = until == 0 and now < start + self._window_ms
        return LockStatus(False, n if live else 0, 0, None)

    def unlock(self, subject: str) -> bool:
        """Clear the lock and the count (admin unlock, password reset; rule 5).

        True if a lock or a count in the current window was cleared.
        """
        now = to_ms(self._clock())
        return bool(self._unlock(keys=[keys.login(subject)], args=[now, self._window_ms]))
