"""IpThrottle: wrong passwords from one IP across all accounts (credential stuffing).

Issue 2, "Lockout": per-IP throttling of checked-and-wrong passwords across many accounts,
answered with a captcha challenge. OWASP Credential Stuffing Prevention Cheat Sheet
("CAPTCHA", "IP-based throttling"): the per-account lock (DOMAIN rule 4) cannot see one
client trying one password on many accounts. The threshold (default 30) sits well above one
account's 5, so one person's typing mistakes never trigger it.

A sliding window: a sorted set of failure times (ms of the injected clock) per IP bucket
(keys.ip_bucket: the address, or the /64 for IPv6).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from redis import Redis

from config.clock import Clock
from config.settings import LockoutSettings

from . import keys
from .timing import to_ms

# KEYS[1] failures zset; ARGV now_ms, window_ms, unique member. Returns the count in window.
_RECORD = """
local now = tonumber(ARGV[1])
local win = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - win)
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], win)
return redis.call('ZCOUNT', KEYS[1], '(' .. (now - win), '+inf')
"""


@dataclass(frozen=True)
class CaptchaGate:
    """``needs_captcha`` for ``LoginGuard.begin`` to answer in its own round trip: the IP's
    failure set, the window's start (ms, exclusive) and the threshold."""

    key: str
    since_ms: int
    threshold: int


class IpThrottle:
    def __init__(self, redis: Redis, settings: LockoutSettings, clock: Clock):
        self._redis = redis
        self._settings = settings
        self._clock = clock
        self._record = redis.register_script(_RECORD)

    @property
    def _window_ms(self) -> int:
        return self._settings.ip_window_seconds * 1000

    def record_failure(self, ip: str) -> int:
        """Count one checked-and-wrong password from ``ip``; return the count in the window."""
        now = to_ms(self._clock())
        member = f"{now}:{secrets.token_hex(8)}"
        return int(self._record(keys=[keys.ip_failures(ip)], args=[now, self._window_ms, member]))

    def record_failure_needs_captcha(self, ip: str) -> bool:
        """``record_failure``, answering ``needs_captcha`` from the count it returns (one round
        trip instead of two)."""
        return self._over_threshold(self.record_failure(ip))

    def failures(self, ip: str) -> int:
        """Wrong passwords from ``ip`` within the last ``ip_window_seconds``."""
        gate = self.gate(ip)
        return int(self._redis.zcount(gate.key, f"({gate.since_ms}", "+inf"))

    def needs_captcha(self, ip: str) -> bool:
        """True once the failures from ``ip`` exceed ``ip_failure_threshold``."""
        return self._over_threshold(self.failures(ip))

    def gate(self, ip: str) -> CaptchaGate:
        """``needs_captcha(ip)``, asked by ``LoginGuard.begin`` before it reserves a check."""
        return CaptchaGate(keys.ip_failures(ip), to_ms(self._clock()) - self._window_ms,
                           self._settings.ip_failure_threshold)

    def _over_threshold(self, failures: int) -> bool:
        return failures > self._settings.ip_failure_threshold
