"""The configured upstream portals and the per-request collaborators of the federation views."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from flask import current_app, g, request
from sqlalchemy.orm import Session

from binding.audit import Audit
from binding.db import transaction
from binding.federation_store import FederationStore
from binding.linking import LinkingService
from config import Clock, Settings

from ..i18n import current_locale
from ..session import services


@dataclass(frozen=True)
class Portal:
    """One configured upstream portal, as the pages show it."""

    id: str
    name_zh: str
    name_en: str
    logo: str | None = None
    upgrade_url: str | None = None

    @property
    def name(self) -> str:
        return self.name_zh if current_locale() == "zh" else self.name_en


@dataclass
class Federation:
    adapters: Mapping[str, Any]                      # id -> providers.base.CallbackAdapter
    portals: dict[str, Portal] = field(default_factory=dict)

    def adapter(self, provider_id: str):
        return self.adapters.get(provider_id)

    def portal_name(self, provider_id: str) -> str:
        portal = self.portals.get(provider_id)
        return portal.name if portal else provider_id


def build_federation(settings: Settings, clock: Clock) -> Federation:
    """Adapters from ``settings.extra["providers"]`` (``providers.registry``, helper E's)."""
    configs = list(settings.extra.get("providers", []) or [])
    if not configs:
        return Federation(adapters={})
    from providers.registry import build_providers

    adapters = build_providers(configs, http=None, clock=clock)
    portals = {}
    for raw in configs:
        pid = raw["id"]
        zh = raw.get("display_name") or pid
        portals[pid] = Portal(pid, zh, raw.get("display_name_en") or zh, raw.get("logo"), raw.get("upgrade_url"))
    return Federation(adapters=adapters, portals=portals)


def federation() -> Federation:
    return current_app.extensions["tongxing.federation"]


def store() -> FederationStore:
    return FederationStore(services().redis)


def callback_url(provider_id: str) -> str:
    """The broker's callback for a portal, registered there as an exact redirect URI."""
    return services().settings.issuer.rstrip("/") + "/federation/callback/" + provider_id


def audit(db: Session) -> Audit:
    return Audit(db, services().clock, ip=request.remote_addr, request_id=g.get("request_id"))


@contextmanager
def linking() -> Iterator[tuple[Session, LinkingService]]:
    """One unit of work with the linking service (its outcomes audited in the same transaction)."""
    s = services()
    with transaction(s.sessions) as db:
        yield db, LinkingService(db, s.clock, audit(db))
