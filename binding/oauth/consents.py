"""Consents: the scopes an account allowed a third-party client (OIDC Core §3.1.2.4).
First-party clients (policy ``first_party``) skip consent unless ``prompt=consent`` asks."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from binding.audit import Audit
from config import Clock

from .models import Consent


class ConsentStore:
    def __init__(self, db: Session, clock: Clock):
        self.db = db
        self.clock = clock

    def _row(self, account_id: int, client_id: str) -> Consent | None:
        return self.db.scalar(select(Consent).where(Consent.account_id == account_id,
                                                    Consent.client_id == client_id))

    def needed(self, account_id: int, client_id: str, scope: str, *, first_party: bool,
               prompts: list[str]) -> bool:
        """Whether the user must be asked: ``prompt=consent`` always asks; a first-party
        client never otherwise; a third-party one when a scope was not allowed before."""
        if "consent" in prompts:
            return True
        if first_party:
            return False
        row = self._row(account_id, client_id)
        return row is None or not set(scope.split()) <= set(row.scope.split())

    def grant(self, account_id: int, client_id: str, scope: str) -> None:
        """Add ``scope`` to what the account allowed ``client_id`` (audited)."""
        now = self.clock()
        row = self._row(account_id, client_id)
        if row is None:
            row = Consent(account_id=account_id, client_id=client_id, scope="", granted_at=now)
            self.db.add(row)
        row.scope = " ".join(sorted(set(row.scope.split()) | set(scope.split())))
        row.granted_at = now
        Audit(self.db, lambda: now).record("oidc.consent_granted", account_id=account_id, client_id=client_id,
                                           scope=scope)
        self.db.flush()


__all__ = ["ConsentStore"]
