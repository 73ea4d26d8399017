"""Failure counting, lock windows and send-rate limits on Redis (DOMAIN rule 4, `000` §6).

Imports only ``config`` and ``redis``; every check-and-update is one Lua script, with the
time taken from the injected clock. Key names live in ``lockout.keys``.
"""
from .guard import Attempt, LockStatus, LoginGuard
from .rates import SendDecision, SendLimiter
from .throttle import IpThrottle
from .window import WindowLimiter

__all__ = ["Attempt", "IpThrottle", "LockStatus", "LoginGuard", "SendDecision", "SendLimiter", "WindowLimiter"]
