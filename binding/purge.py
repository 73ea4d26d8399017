"""Deleting what no longer serves (``broker db purge``): rows that only grow otherwise.

- authorization codes expired more than ``older_than`` ago (kept that long so a replayed code
  still revokes the tokens issued from it, RFC 6749 §4.1.2, and its nonce still counts as used);
- OAuth grants past their absolute life (``expires_at``: no refresh is possible any more) whose
  access tokens have all expired too, with their tokens;
- login sessions revoked, or past their absolute lifetime, more than ``older_than`` ago;
- outbox messages (SMS / email as sent) older than ``older_than``.

The audit trail is kept (house rule: state changes are audited); the purge itself is audited.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.orm import Session

from config import Clock

from .audit import Audit
from .models import LoginSession, OutboxMessage
from .oauth.models import AuthorizationCode, OAuthGrant, OAuthToken


@dataclass(frozen=True)
class Purged:
    codes: int
    grants: int
    tokens: int
    login_sessions: int
    outbox: int


def purge(db: Session, clock: Clock, older_than: timedelta, actor: str | None = None) -> Purged:
    """Delete the rows above in the caller's transaction; returns how many of each."""
    now = clock()
    cutoff = now - older_than
    codes = _delete(db, delete(AuthorizationCode).where(AuthorizationCode.expires_at <= cutoff))
    live_token = exists().where(OAuthToken.grant_id == OAuthGrant.id, OAuthToken.access_expires_at > now)
    dead_grants = select(OAuthGrant.id).where(OAuthGrant.expires_at <= now, ~live_token)
    grant_ids = list(db.scalars(dead_grants))
    tokens = grants = 0
    for chunk in _chunks(grant_ids):
        # Tokens first: SQLite enforces no ON DELETE CASCADE unless told to.
        tokens += _delete(db, delete(OAuthToken).where(OAuthToken.grant_id.in_(chunk)))
        grants += _delete(db, delete(OAuthGrant).where(OAuthGrant.id.in_(chunk)))
    sessions = _delete(db, delete(LoginSession).where(
        or_(LoginSession.revoked_at <= cutoff, LoginSession.expires_at <= cutoff)))
    outbox = _delete(db, delete(OutboxMessage).where(OutboxMessage.created_at <= cutoff))
    purged = Purged(codes, grants, tokens, sessions, outbox)
    Audit(db, clock).record("data.purged", None, actor=actor, older_than_days=older_than.days, **asdict(purged))
    return purged


def _delete(db: Session, statement) -> int:
    return db.execute(statement.execution_options(synchronize_session=False)).rowcount or 0


def _chunks(ids: list[int], size: int = 500):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


__all__ = ["Purged", "purge"]
