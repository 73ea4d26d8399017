"""Every Redis key the lockout package uses, in one place.

All keys start with ``tx:lock:`` so they never collide with sessions, captchas or anything
else sharing the Redis database. Identifiers that could be personal data (phone numbers,
e-mail addresses) are hashed before they become part of a key name, so ``KEYS``/``MONITOR``
output does not list them.
"""
from __future__ import annotations

import hashlib
from ipaddress import IPv6Address, ip_address, ip_network

PREFIX = "tx:lock:"
# The three keys of one SendLimiter.acquire() run in one Lua script; the shared hash tag
# keeps them in one slot should Redis Cluster be used later (ARCHITECTURE: "Cluster later").
_SEND = PREFIX + "{send}:"


def digest(value: str) -> str:
    """A stable, non-reversible-at-a-glance key fragment for a personal identifier."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]


def ip_bucket(ip: str) -> str:
    """The unit an IP is counted in: the address for IPv4, its /64 for IPv6.

    One IPv6 subscriber usually holds a whole /64, so counting single v6 addresses would let
    one client rotate through 2**64 of them (OWASP Credential Stuffing Prevention Cheat Sheet,
    "IP-based throttling"). Strings that are not an address are counted as they are.
    """
    try:
        addr = ip_address(ip.strip())
    except ValueError:
        return "raw:" + digest(ip)
    if isinstance(addr, IPv6Address):
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        return str(ip_network(f"{addr}/64", strict=False))
    return str(addr)


# LoginGuard.begin with a captcha gate reads ip_failures(ip) in the script that updates
# login(subject): two slots under Redis Cluster (see its docstring).
def login(subject: str) -> str:
    """Hash of the password-check window of one subject: fields n, start, until (ms)."""
    return f"{PREFIX}login:{subject}"


def ip_failures(ip: str) -> str:
    """Sorted set of wrong-password times (ms) from one IP bucket."""
    return f"{PREFIX}ipfail:{ip_bucket(ip)}"


def send_last(recipient: str) -> str:
    """Time (ms) of the last code sent to a recipient."""
    return f"{_SEND}last:{digest(recipient)}"


def send_daily(recipient: str) -> str:
    """Sorted set of send times (ms) to a recipient within the last day."""
    return f"{_SEND}day:{digest(recipient)}"


def send_ip(ip: str) -> str:
    """Sorted set of send times (ms) requested from one IP bucket within the last hour."""
    return f"{_SEND}ip:{ip_bucket(ip)}"


def window(name: str, ip: str) -> str:
    """Sorted set of request times (ms) of one rate-limited endpoint ``name`` from one IP bucket
    (``lockout.window.WindowLimiter``)."""
    return f"{PREFIX}win:{name}:{ip_bucket(ip)}"
