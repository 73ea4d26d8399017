"""In-memory, expiring state shared by the portals of one sandbox app: registered clients,
one-time codes/tickets and access tokens. Everything is guarded by one lock; entries expire."""
from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit, urlunsplit

CODE_TTL = 300          # RFC 6749 §4.1.2: codes expire shortly (at most 10 minutes)
TICKET_TTL = 300        # CAS 3.0 §3.2: service tickets are short-lived
TOKEN_TTL = 7200        # WeChat's access_token lifetime; used by every portal here


@dataclass(frozen=True)
class SandboxClient:
    """A downstream party registered at every portal (exact redirect URI match)."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]

    def check_secret(self, secret: str | None) -> bool:
        return secret is not None and hmac.compare_digest(secret.encode(), self.client_secret.encode())

    def allows_redirect(self, uri: str | None) -> bool:
        return uri is not None and any(hmac.compare_digest(uri, r) for r in self.redirect_uris)

    def allows_service(self, service: str | None) -> bool:
        """CAS services match a registered redirect URI ignoring the query string (CAS servers
        register service patterns; the client may carry its own parameters in the query)."""
        return service is not None and _without_query(service) in {_without_query(r) for r in self.redirect_uris}


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def parse_clients(clients: list[dict]) -> dict[str, SandboxClient]:
    return {c["client_id"]: SandboxClient(c["client_id"], c["client_secret"], tuple(c["redirect_uris"]))
            for c in clients}


@dataclass
class _Entry:
    value: Any
    expires_at: float


@dataclass
class Store:
    """Single-use codes/tickets (``put``/``take``) and reusable tokens (``put``/``get``)."""

    clock: Callable[[], float] = time.time
    _data: dict[str, _Entry] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, kind: str, value: Any, ttl: int, *, prefix: str = "", key: str | None = None) -> str:
        key = key or prefix + secrets.token_urlsafe(24)
        with self._lock:
            self._purge()
            self._data[f"{kind}:{key}"] = _Entry(value, self.clock() + ttl)
        return key

    def get(self, kind: str, key: str | None) -> Any | None:
        if not key:
            return None
        with self._lock:
            entry = self._data.get(f"{kind}:{key}")
            return entry.value if entry and entry.expires_at > self.clock() else None

    def take(self, kind: str, key: str | None) -> Any | None:
        """Return and remove in one step: a code or ticket works once, even under races."""
        if not key:
            return None
        with self._lock:
            entry = self._data.pop(f"{kind}:{key}", None)
            return entry.value if entry and entry.expires_at > self.clock() else None

    def _purge(self) -> None:
        now = self.clock()
        for k in [k for k, e in self._data.items() if e.expires_at <= now]:
            del self._data[k]
