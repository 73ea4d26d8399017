"""Signing keys in the database (issue 3): ES256 by default, RS256 for clients that ask.

``rotate(alg)`` adds a new key that signs from then on; the previous one is retired but stays
in the JWKS until every token it signed has expired (``OidcSettings.key_retention_seconds``),
so relying parties that cached the old JWKS and tokens issued before the rotation keep verifying.
"""
from __future__ import annotations

import json
from datetime import timedelta

from joserfc.jwk import ECKey, KeySet, RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Clock

from .config import SUPPORTED_ALGS, OidcSettings
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


class KeyStore:
    def __init__(self, db: Session, settings: OidcSettings, clock: Clock):
        self.db = db
        self.settings = settings
        self.clock = clock

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
        return row

    def active_row(self, alg: str) -> SigningKey:
        """The signing key of ``alg``, created on first use."""
        row = self.db.scalar(select(SigningKey).where(SigningKey.alg == alg, SigningKey.retired_at.is_(None))
                             .order_by(SigningKey.id.desc()).limit(1))
        return row or self.rotate(alg)

    def signing_key(self, alg: str):
        """(joserfc key with its kid) for signing with ``alg``."""
        row = self.active_row(alg)
        return _import(row)

    def published(self) -> list[SigningKey]:
        """Active keys and retired keys whose tokens may still be alive."""
        cutoff = self.clock() - timedelta(seconds=self.settings.key_retention_seconds)
        rows = self.db.scalars(select(SigningKey).order_by(SigningKey.id)).all()
        return [r for r in rows if r.retired_at is None or r.retired_at > cutoff]

    def jwks(self) -> dict:
        """The public JWKS (RFC 7517 §5); never any private part."""
        return {"keys": [_import(r).as_dict(private=False) for r in self.published()]}

    def verification_keys(self) -> KeySet:
        return KeySet([_import(r) for r in self.published()])

    def all(self) -> list[SigningKey]:
        return list(self.db.scalars(select(SigningKey).order_by(SigningKey.id)))


__all__ = ["KeyStore"]
