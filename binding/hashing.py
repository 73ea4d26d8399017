"""The stored form of a random secret (session token, code, client secret, federation id).

Each is a high-entropy random string, so a fast SHA-256 is enough and a stolen database (or
Redis) yields nothing usable (RFC 6819 §5.1.4.1.3); passwords are different (``binding.passwords``)."""
from __future__ import annotations

import hashlib


def secret_hash(secret: str) -> str:
    """Hex SHA-256 of ``secret`` (64 characters)."""
    return hashlib.sha256(secret.encode()).hexdigest()


__all__ = ["secret_hash"]
