"""Server-side records of federated logins in progress, in Redis with a TTL (issue 4).

Two kinds, each keyed by a random id that only the browser session holds (the broker keeps the
id in its signed session cookie; Redis keys hold only a SHA-256 of it):
- ``state``: one upstream round trip -- provider id, the adapter's opaque data (PKCE verifier,
  nonce, expected issuer), where to go next, and the browser binding. Single use (GETDEL):
  a replayed state finds nothing (RFC 6749 §10.12, RFC 9700 §4.7 mix-up / CSRF).
- ``pending``: an upstream identity waiting for the user (conflict, new-account profile). The
  client never carries identity data: it only holds the id.
"""
from __future__ import annotations

import json
import secrets
from typing import Any

from redis import Redis

from .hashing import secret_hash

STATE_TTL_SECONDS = 600
PENDING_TTL_SECONDS = 900
_PREFIX = "tongxing:federation:"


def _key(kind: str, token: str) -> str:
    return f"{_PREFIX}{kind}:{secret_hash(token)}"


class FederationStore:
    def __init__(self, redis: Redis):
        self.redis = redis

    def put(self, kind: str, data: dict[str, Any], ttl: int, token: str | None = None) -> str:
        token = token or secrets.token_urlsafe(32)
        self.redis.set(_key(kind, token), json.dumps(data), ex=ttl)
        return token

    def take(self, kind: str, token: str | None) -> dict[str, Any] | None:
        """The record, removed atomically (single use); None when unknown, used or expired."""
        if not token or not isinstance(token, str):
            return None
        raw = self.redis.getdel(_key(kind, token))
        return json.loads(raw) if raw else None

    def peek(self, kind: str, token: str | None) -> dict[str, Any] | None:
        if not token or not isinstance(token, str):
            return None
        raw = self.redis.get(_key(kind, token))
        return json.loads(raw) if raw else None

    def drop(self, kind: str, token: str | None) -> None:
        if token and isinstance(token, str):
            self.redis.delete(_key(kind, token))


__all__ = ["FederationStore", "PENDING_TTL_SECONDS", "STATE_TTL_SECONDS"]
