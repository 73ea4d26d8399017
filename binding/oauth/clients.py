"""The client directory: clients from the TOML config (read-only, held in memory) and clients
in the database (``broker clients add|remove``, the demo seed). Secrets are shown once and
stored as SHA-256 of a 256-bit random value.

``ClientCache`` (one per app, so per worker process; the protocol endpoints pass it) keeps a
snapshot of each database client for ``CLIENT_CACHE_SECONDS``: every /token, /introspect and
/userinfo request looks its client up, often twice. So ``broker clients remove`` (or a changed
secret) takes effect in a running worker within that time; the removed client's tokens are
revoked in the database at once and refused from the next request. Unknown clients are not
remembered, so a newly added one works at once."""
from __future__ import annotations

import secrets
import threading
from datetime import datetime, timedelta
from typing import Iterable

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from binding.audit import Audit
from binding.errors import Conflict, NotFound
from config import Clock

from .config import ClientSpec
from .grants import revoke_grants
from .models import OAuthClient, OAuthGrant, secret_hash


def new_client_secret() -> str:
    return secrets.token_urlsafe(32)


def client_from_spec(spec: ClientSpec, *, source: str, now) -> OAuthClient:
    hashed = None
    if not spec.public:
        hashed = spec.secret_sha256 or secret_hash(spec.secret or "")
    return OAuthClient(
        client_id=spec.client_id, name=spec.name or spec.client_id, secret_hash=hashed,
        redirect_uris=list(spec.redirect_uris), post_logout_redirect_uris=list(spec.post_logout_redirect_uris),
        backchannel_logout_uri=spec.backchannel_logout_uri, grant_types=list(spec.grant_types),
        scopes=list(spec.scopes), signing_alg=spec.signing_alg, policy=spec.policy.as_dict(),
        source=source, created_at=now,
    )


def client_json(client: OAuthClient, secret: str | None = None) -> dict:
    """What ``broker clients show`` prints (the secret only right after ``add``)."""
    data = {
        "client_id": client.client_id, "name": client.name,
        "client_type": "public" if client.public else "confidential",
        "token_endpoint_auth_method": "none" if client.public else "client_secret_basic",
        "redirect_uris": list(client.redirect_uris or []),
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris or []),
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "grant_types": list(client.grant_types or []), "scope": " ".join(client.scopes or []),
        "id_token_signed_response_alg": client.signing_alg, "policy": dict(client.policy or {}),
        "source": client.source,
    }
    if secret is not None:
        data["client_secret"] = secret
    return data


# How long a worker may keep using what it read about a database client (README "Performance").
CLIENT_CACHE_SECONDS = 5


def snapshot(row: OAuthClient) -> OAuthClient:
    """A copy of ``row`` belonging to no session (like the config clients): safe to keep across
    requests and threads, unaffected by the rollback of the session that loaded it."""
    return OAuthClient(**{attr.key: getattr(row, attr.key) for attr in inspect(OAuthClient).column_attrs})


class ClientCache:
    """Per-process snapshots of database clients, each kept ``ttl_seconds`` by the injected clock."""

    def __init__(self, ttl_seconds: float = CLIENT_CACHE_SECONDS):
        self.ttl = timedelta(seconds=ttl_seconds)
        self._rows: dict[str, tuple[OAuthClient, datetime]] = {}
        self._lock = threading.Lock()

    def get(self, client_id: str, now: datetime) -> OAuthClient | None:
        hit = self._rows.get(client_id)
        if hit is None or not (hit[1] <= now < hit[1] + self.ttl):
            return None
        return hit[0]

    def put(self, client: OAuthClient, now: datetime) -> None:
        with self._lock:
            self._rows[client.client_id] = (client, now)

    def forget(self, client_id: str) -> None:
        with self._lock:
            self._rows.pop(client_id, None)


class ClientDirectory:
    def __init__(self, db: Session, clock: Clock, config_clients: Iterable[OAuthClient] = (),
                 cache: ClientCache | None = None):
        self.db = db
        self.clock = clock
        self.config_clients = {c.client_id: c for c in config_clients}
        self.cache = cache

    def get(self, client_id: str | None) -> OAuthClient | None:
        """The client, or None. With a cache: a read-only snapshot, at most the cache's TTL old."""
        if not client_id:
            return None
        if client_id in self.config_clients:
            return self.config_clients[client_id]
        if self.cache is None:
            return self.db.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
        now = self.clock()
        cached = self.cache.get(client_id, now)
        if cached is not None:
            return cached
        row = self.db.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
        if row is None:
            return None
        client = snapshot(row)
        self.cache.put(client, now)
        return client

    def list(self) -> list[OAuthClient]:
        rows = list(self.db.scalars(select(OAuthClient).order_by(OAuthClient.client_id)))
        return sorted([*self.config_clients.values(), *rows], key=lambda c: c.client_id)

    def add(self, spec: ClientSpec, *, source: str = "cli", actor: str = "cli") -> tuple[OAuthClient, str | None]:
        """Register ``spec``; a confidential client without a secret gets a fresh one, returned once."""
        if self.get(spec.client_id) is not None:
            raise Conflict(f"客户端 {spec.client_id} 已存在", f"client {spec.client_id} already exists",
                           field="client_id")
        secret = None
        if not spec.public and not spec.secret and not spec.secret_sha256:
            secret = new_client_secret()
            spec = _with_secret(spec, secret)
        elif spec.secret:
            secret = spec.secret
        now = self.clock()
        row = client_from_spec(spec, source=source, now=now)
        self.db.add(row)
        Audit(self.db, lambda: now).record("oidc.client_added", actor=actor, client_id=spec.client_id, source=source)
        self.db.flush()
        return row, secret

    def remove(self, client_id: str, *, actor: str = "cli") -> None:
        row = self.db.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
        if row is None:
            where = "配置文件" if client_id in self.config_clients else "数据库"
            raise NotFound(f"{where}中没有可删除的客户端 {client_id}", f"no removable client {client_id}"
                           + (" (declared in the config file)" if client_id in self.config_clients else ""),
                           field="client_id")
        # Its tokens die with it: a removed portal must not keep calling userinfo (issue 3).
        revoked = revoke_grants(self.db, self.clock(), "client_removed", OAuthGrant.client_id == client_id)
        self.db.delete(row)
        Audit(self.db, self.clock).record("oidc.client_removed", actor=actor, client_id=client_id,
                                          grants_revoked=revoked)
        self.db.flush()
        if self.cache is not None:
            self.cache.forget(client_id)


def _with_secret(spec: ClientSpec, secret: str) -> ClientSpec:
    from dataclasses import replace

    return replace(spec, secret=secret)


__all__ = ["CLIENT_CACHE_SECONDS", "ClientCache", "ClientDirectory", "client_from_spec", "client_json",
           "new_client_secret", "snapshot"]
