"""An injectable clock for lock windows and code expiry."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone


class FrozenClock:
    def __init__(self, start: datetime | None = None):
        self.now = start or datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 0, **kwargs) -> None:
        self.now += timedelta(seconds=seconds, **kwargs)
