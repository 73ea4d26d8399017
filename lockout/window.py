"""WindowLimiter: at most ``limit`` requests per IP bucket in any ``window_seconds`` (a
rolling window), for anonymous endpoints that write server-side state on every hit -- the
federated login start stores a state record per request (issue 4), so an unthrottled client
could fill Redis. Check and record are one Lua script: concurrent requests cannot both pass."""
from __future__ import annotations

import secrets

from redis import Redis

from config.clock import Clock

from . import keys
from .rates import SendDecision
from .timing import ceil_seconds, to_ms

# KEYS[1] zset of request times; ARGV now_ms, window_ms, limit, unique member.
# Returns {allowed 0/1, wait_ms}.
_ACQUIRE = """
local now = tonumber(ARGV[1])
local span = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - span)
local count = redis.call('ZCARD', KEYS[1])
if count >= limit then
  local entry = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
  return {0, tonumber(entry[2]) + span - now}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], span)
return {1, 0}
"""


class WindowLimiter:
    def __init__(self, redis: Redis, clock: Clock, name: str, limit: int, window_seconds: int):
        if limit < 1 or window_seconds < 1:
            raise ValueError("limit and window_seconds must be positive")
        self._clock = clock
        self._name = name
        self._limit = limit
        self._window_ms = window_seconds * 1000
        self._acquire = redis.register_script(_ACQUIRE)

    def acquire(self, ip: str) -> SendDecision:
        """Record one request from ``ip`` if the window has room; else how long to wait
        (``reason`` "ip"). A refused request records nothing."""
        now = to_ms(self._clock())
        allowed, wait = self._acquire(keys=[keys.window(self._name, ip)],
                                      args=[now, self._window_ms, self._limit, f"{now}:{secrets.token_hex(8)}"])
        if allowed:
            return SendDecision(True, 0, None)
        return SendDecision(False, max(1, ceil_seconds(int(wait))), "ip")
