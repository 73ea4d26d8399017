"""The configured upstream portals and the per-request collaborators of the federation views."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from flask import current_app
from sqlalchemy.orm import Session

from binding.db import transaction
from binding.federation_store import FederationStore
from binding.linking import LinkingService
from config import Clock, Settings

from ..auth.helpers import account_service_builder
from ..i18n import current_locale
from ..services import services
from ..session import audit


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
    """Adapters from ``settings.extra["providers"]`` (``providers.registry``); the pages show
    each portal by the names, logo and upgrade page its adapter was configured with."""
    configs = list(settings.extra.get("providers", []) or [])
    if not configs:
        return Federation(adapters={})
    from providers.registry import build_providers

    adapters = build_providers(configs, http=None, clock=clock, production=settings.production)
    portals = {pid: Portal(pid, a.display_name, a.display_name_en or a.display_name, a.logo, a.upgrade_url)
               for pid, a in adapters.items()}
    return Federation(adapters=adapters, portals=portals)


def federation() -> Federation:
    return current_app.extensions["tongxing.federation"]


def store() -> FederationStore:
    return FederationStore(services().redis)


def callback_url(provider_id: str) -> str:
    """The broker's callback for a portal, registered there as an exact redirect URI."""
    return services().settings.issuer.rstrip("/") + "/federation/callback/" + provider_id


@contextmanager
def linking() -> Iterator[tuple[Session, LinkingService]]:
    """One unit of work with the linking service (its outcomes audited in the same transaction),
    wired with the accounts service for the steps that check a password or an SMS code (built
    only when one of them runs)."""
    with transaction(services().sessions) as db:
        yield db, linking_on(db)


def linking_on(db: Session) -> LinkingService:
    """The linking service on ``db``, a unit of work the caller runs."""
    build = account_service_builder()
    return LinkingService(db, services().clock, audit(db), accounts_factory=lambda: build(db))


def record_failure(provider_id: str, error) -> None:
    """``federation.failed`` for a login that could not complete (state, mix-up, nonce,
    signature, portal down...), in a short transaction of its own: the request's own work, if
    any, is rolled back. Only the stable code and a sanitised reason token are kept."""
    from providers.errors import safe_code

    s = services()
    with transaction(s.sessions) as db:
        audit(db).record("federation.failed", None, provider=provider_id, code=error.code,
                         reason=safe_code(error.data.get("reason") or error.code))


START_LIMIT = 30            # federated login starts per IP bucket...
START_WINDOW_SECONDS = 60   # ...per rolling minute: each start writes a state record


def start_limiter():
    from lockout import WindowLimiter

    s = services()
    return WindowLimiter(s.redis, s.clock, "federation-start", START_LIMIT, START_WINDOW_SECONDS)
