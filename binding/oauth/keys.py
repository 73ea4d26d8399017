"""Signing keys in the database (issue 3): ES256 by default, RS256 for clients that ask.

``rotate(alg)`` adds a new key that signs from then on; the previous one is retired but stays
in the JWKS until every token it signed has expired (``OidcSettings.key_retention_seconds``),
so relying parties that cached the old JWKS and tokens issued before the rotation keep verifying.

``SigningKeyCache`` (one per app, so per worker process) spares every token the database read and
the JWK import of its signing key: imported keys are kept by ``kid`` (a kid's key never changes),
and the active kid of each algorithm is re-read at most every ``ACTIVE_KEY_CACHE_SECONDS``. After a
rotation in another process (``broker keys rotate``) new tokens use the new key within that time;
tokens signed meanwhile with the retired key still verify (it stays in the JWKS, see above).
"""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta

from joserfc.jwk import ECKey, KeySet, RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Clock

from .config import SUPPORTED_ALGS, OidcSettings
from .jws import sign_compact
from .models import SigningKey


def _generate(alg: str):
    if alg == "ES256":
        key = ECKey.generate_key("P-256", parameters={"alg": "ES256", "use": "sig"})
    elif alg == "RS256":
        key = RSAKey.generate_key(2048, parameters={"alg": "RS256", "use": "sig"})
    else:
        raise ValueError(f"unsupported signing algorithm {alg!r}")
    key.ensure_kid()
    return key


def _import(row: SigningKey):
    data = json.loads(row.private_jwk)
    return (ECKey if data["kty"] == "EC" else RSAKey).import_key(data)


# How long a worker keeps signing with the key it last saw active (README "Performance").
ACTIVE_KEY_CACHE_SECONDS = 5


class SigningKeyCache:
    """Per-process memory of signing keys; safe to share between a worker's threads."""

    def __init__(self, ttl_seconds: float = ACTIVE_KEY_CACHE_SECONDS):
        self.ttl = timedelta(seconds=ttl_seconds)
        self._imported: dict[str, object] = {}
        self._active: dict[str, tuple[str, datetime]] = {}   # alg -> (kid, when it was read)
        self._lock = threading.Lock()

    def imported(self, row: SigningKey):
        """The joserfc key of ``row``, imported once per kid."""
        key = self._imported.get(row.kid)
        if key is None:
            key = _import(row)
            with self._lock:
                self._imported[row.kid] = key
        return key

    def active(self, alg: str, now: datetime):
        """(kid, key) of ``alg`` when read less than the TTL ago, else None."""
        hit = self._active.get(alg)
        if hit is None or not (hit[1] <= now < hit[1] + self.ttl):
            return None
        key = self._imported.get(hit[0])
        return None if key is None else (hit[0], key)

    def remember_active(self, alg: str, row: SigningKey, now: datetime):
        key = self.imported(row)
        with self._lock:
            self._active[alg] = (row.kid, now)
        return row.kid, key

    def forget_active(self, alg: str) -> None:
        with self._lock:
            self._active.pop(alg, None)


class KeyStore:
    def __init__(self, db: Session, settings: OidcSettings, clock: Clock, cache: SigningKeyCache | None = None):
        self.db = db
        self.settings = settings
        self.clock = clock
        self.cache = cache
        self._signing: dict[str, tuple[str, object]] = {}   # one answer per KeyStore (per request)

    def rotate(self, alg: str) -> SigningKey:
        """A new active key for ``alg``; the current one (if any) is retired now."""
        if alg not in SUPPORTED_ALGS:
            raise ValueError(f"unsupported signing algorithm {alg!r}")
        now = self.clock()
        for row in self.db.scalars(select(SigningKey).where(SigningKey.alg == alg, SigningKey.retired_at.is_(None))):
            row.retired_at = now
        key = _generate(alg)
        row = SigningKey(kid=key.kid, alg=alg, private_jwk=json.dumps(key.as_dict(private=True)), created_at=now)
        self.db.add(row)
        self.db.flush()
        self._signing.pop(alg, None)
        if self.cache is not None:
            self.cache.forget_active(alg)
        return row

    def _active_in_db(self, alg: str) -> SigningKey | None:
        return self.db.scalar(select(SigningKey).where(SigningKey.alg == alg, SigningKey.retired_at.is_(None))
                              .order_by(SigningKey.id.desc()).limit(1))

    def signing(self, alg: str) -> tuple[str, object]:
        """(kid, joserfc key) to sign with ``alg``: from the cache when it has a fresh answer.
        The same answer for the store's whole life, so a header's kid always names the key that
        signed (a request asks once for the header and once for the key)."""
        if alg not in self._signing:
            self._signing[alg] = self._lookup(alg)
        return self._signing[alg]

    def _lookup(self, alg: str) -> tuple[str, object]:
        now = self.clock()
        if self.cache is not None:
            hit = self.cache.active(alg, now)
            if hit is not None:
                return hit
        row = self._active_in_db(alg)
        if row is None:   # created in this transaction: not cached, it may yet be rolled back
            row = self.rotate(alg)
            return row.kid, _import(row)
        if self.cache is None:
            return row.kid, _import(row)
        return self.cache.remember_active(alg, row, now)

    def sign(self, alg: str, typ: str, claims: dict) -> str:
        """A compact JWS of ``claims`` by the active key of ``alg`` (its kid in the header)."""
        kid, key = self.signing(alg)
        return sign_compact(alg, typ, kid, claims, key.private_key)

    def published(self) -> list[SigningKey]:
        """Active keys and retired keys whose tokens may still be alive."""
        cutoff = self.clock() - timedelta(seconds=self.settings.key_retention_seconds)
        rows = self.db.scalars(select(SigningKey).order_by(SigningKey.id)).all()
        return [r for r in rows if r.retired_at is None or r.retired_at > cutoff]

    def _key(self, row: SigningKey):
        return _import(row) if self.cache is None else self.cache.imported(row)

    def jwks(self) -> dict:
        """The public JWKS (RFC 7517 §5); never any private part."""
        return {"keys": [self._key(r).as_dict(private=False) for r in self.published()]}

    def verification_keys(self) -> KeySet:
        return KeySet([self._key(r) for r in self.published()])

    def all(self) -> list[SigningKey]:
        return list(self.db.scalars(select(SigningKey).order_by(SigningKey.id)))


__all__ = ["ACTIVE_KEY_CACHE_SECONDS", "KeyStore", "SigningKeyCache"]
