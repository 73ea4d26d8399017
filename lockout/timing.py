"""Clock conversions: the Lua scripts work in integer milliseconds since the Unix epoch.

The time always comes from the injected clock (config.clock.Clock), never from Redis TIME,
so a test can advance a frozen clock instead of sleeping.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MS = timedelta(milliseconds=1)


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("the clock must return aware datetimes")
    return (moment - _EPOCH) // _MS


def from_ms(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=int(ms))


def ceil_seconds(ms: int) -> int:
    """Whole seconds, rounded up: a client told to wait this long will not be refused again."""
    return max(0, -(-int(ms) // 1000))
