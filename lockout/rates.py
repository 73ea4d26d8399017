"""SendLimiter: how often one-time codes may be sent (DOMAIN rules 1, 2, 3, 5; issue 2).

Issue 2: codes are "sends limited per phone (1 per 60 s, 10 per day) and per IP". Each send
costs money and lands on someone's phone, so the limits stop SMS bombing of one victim and
toll fraud ("SMS pumping") from one client; the image captcha of rule 3 comes before them.

Three limits, checked and recorded in ONE Lua script so concurrent requests cannot both pass:
- ``interval``: 1 send per ``send_interval_seconds`` per recipient;
- ``daily``: ``daily_limit_per_recipient`` sends per recipient in any 24 hours (a rolling
  day, so there is no burst at midnight and no time zone to choose);
- ``ip``: ``hourly_limit_per_ip`` sends requested from one IP bucket in any hour.
A send is recorded only when all three allow it; a refusal records nothing.

Recipients are the caller's normalised phone number or e-mail address; they are hashed in
key names (keys.digest).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from redis import Redis

from config.clock import Clock
from config.settings import CodeSettings

from . import keys
from .timing import ceil_seconds, to_ms

DAY_MS = 24 * 3600 * 1000
HOUR_MS = 3600 * 1000

# KEYS last (string), day zset, ip zset.
# ARGV now, interval_ms, daily_limit, day_ms, ip_limit, hour_ms, unique member.
# Returns {allowed 0/1, wait_ms, reason}: the longest wait among the limits hit.
_ACQUIRE = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local wait, reason = 0, ''
local function hit(ms, why)
  if ms > wait then wait = ms; reason = why end
end
-- ms until a rolling-window zset holds fewer than limit entries (0 if it already does)
local function window_wait(key, limit, span)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - span)
  local count = redis.call('ZCARD', key)
  if count < limit then return 0 end
  local entry = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
  return tonumber(entry[2]) + span - now
end
local last = tonumber(redis.call('GET', KEYS[1]))
if last and now < last + interval then hit(last + interval - now, 'interval') end
hit(window_wait(KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4])), 'daily')
hit(window_wait(KEYS[3], tonumber(ARGV[5]), tonumber(ARGV[6])), 'ip')
if wait > 0 then
  return {0, wait, reason}
end
redis.call('SET', KEYS[1], now, 'PX', interval)
redis.call('ZADD', KEYS[2], now, ARGV[7])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[4]))
redis.call('ZADD', KEYS[3], now, ARGV[7])
redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[6]))
return {1, 0, ''}
"""


@dataclass(frozen=True)
class SendDecision:
    """allowed: send now (already recorded). Otherwise retry_after seconds (rounded up) until
    every limit hit has room again, and reason, the limit with the longest wait:
    "interval", "daily" or "ip"."""

    allowed: bool
    retry_after: int
    reason: str | None


class SendLimiter:
    def __init__(self, redis: Redis, settings: CodeSettings, clock: Clock):
        self._redis = redis
        self._settings = settings
        self._clock = clock
        self._acquire = redis.register_script(_ACQUIRE)

    def acquire(self, recipient: str, ip: str) -> SendDecision:
        """Check all three limits and, only if all allow, record this send. One Lua call."""
        if not recipient:
            raise ValueError("recipient must not be empty")
        now = to_ms(self._clock())
        s = self._settings
        allowed, wait, reason = self._acquire(
            keys=[keys.send_last(recipient), keys.send_daily(recipient), keys.send_ip(ip)],
            args=[
                now,
                s.send_interval_seconds * 1000,
                s.daily_limit_per_recipient,
                DAY_MS,
                s.hourly_limit_per_ip,
                HOUR_MS,
                f"{now}:{secrets.token_hex(8)}",
            ],
        )
        if allowed:
            return SendDecision(True, 0, None)
        reason = reason.decode() if isinstance(reason, bytes) else reason
        return SendDecision(False, max(1, ceil_seconds(int(wait))), reason)
