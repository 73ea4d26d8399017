"""Audit trail: every state change that matters becomes an AuditEvent row in the caller's
transaction (house rule: state changes are transactional and audited).

Event names are dotted: account.registered, login.succeeded, login.failed, account.locked,
account.unlocked, password.reset, password.changed, account.disabled, account.enabled,
code.sent, and the OIDC side's oidc.authorized, oidc.consent_granted, oidc.code_replayed,
oidc.refresh_reused, oidc.grant_revoked, oidc.client_added, oidc.client_removed. ``detail`` never
holds secrets (passwords, codes, tokens) nor full phone numbers.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from config import Clock

from .db import session_connection
from .models import AuditEvent
from .prepared import insert_all

# Every login writes one (binding.prepared: the ORM's flush cost more than the rest of its write).
_INSERT = insert_all(AuditEvent.__table__)


class Audit:
    def __init__(self, db: Session, clock: Clock, ip: str | None = None, request_id: str | None = None):
        self.db = db
        self.clock = clock
        self.ip = ip
        self.request_id = request_id

    def record(self, event: str, account_id: int | None = None, actor: str | None = None, **detail: Any) -> None:
        """Written now, in the caller's transaction: kept or rolled back with it."""
        _INSERT.run(session_connection(self.db), dict(at=self.clock(), event=event, account_id=account_id,
                                                      actor=actor, ip=self.ip, request_id=self.request_id,
                                                      detail=detail))


__all__ = ["Audit"]
