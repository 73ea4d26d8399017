"""Template helpers the shared pages use: the portal buttons of the login page, "my linked
accounts" on the account page, and the upgrade guidance on the OIDC unmet-requirements page."""
from __future__ import annotations

from flask import Flask, g, session

from binding.db import transaction
from binding.linking import masked
from binding.upstream_models import UpstreamIdentity

from ..session import current_login, services
from .context import federation


def portals() -> list:
    return list(federation().portals.values())


def linked_accounts() -> list[dict]:
    """The signed-in account's upstream identities, with their portal names (rule 12)."""
    login = current_login()
    if login is None:
        return []
    from binding.linking import LinkingService
    from .context import audit

    with transaction(services().sessions) as db:
        rows = LinkingService(db, services().clock, audit(db)).linked(login.account_id)
        return [masked(r) | {"portal": federation().portal_name(r.provider_id)} for r in rows]


def account_notice() -> str | None:
    from .views import ACCOUNT_NOTICE_KEY

    return session.pop(ACCOUNT_NOTICE_KEY, None)


def upgrade_guidance(retry_url: str) -> dict | None:
    """For a login through a portal: where to raise the level (the portal's ``upgrade_url``) and
    a restart of the federated login that resumes ``retry_url`` (rule 8, `003` 2.2.3)."""
    from .views import start_url

    login = current_login()
    if login is None or login.upstream_identity_id is None:
        return None
    provider_id = _provider_of(login.upstream_identity_id)
    portal = federation().portals.get(provider_id) if provider_id else None
    if portal is None:
        return None
    return {"portal": portal.name, "upgrade_url": portal.upgrade_url, "restart_url": start_url(provider_id, retry_url)}


def _provider_of(upstream_id: int) -> str | None:
    # Rendered inside the OIDC provider's open transaction (its unit of work): reuse it, as a
    # second SQLite transaction would wait for the first one's write lock.
    open_db = g.get("oidc_db")
    if open_db is not None:
        row = open_db.get(UpstreamIdentity, upstream_id)
        return row.provider_id if row is not None else None
    with transaction(services().sessions) as db:
        row = db.get(UpstreamIdentity, upstream_id)
        return row.provider_id if row is not None else None


def register_template_helpers(app: Flask) -> None:
    from .views import start_url

    app.jinja_env.globals.update(
        federation_portals=portals, federation_start_url=start_url, federation_linked=linked_accounts,
        federation_account_notice=account_notice, federation_upgrade=upgrade_guidance,
    )
