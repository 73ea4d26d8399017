"""What the shared pages show of federation, computed by the views that render them (no
database work from templates): the portal buttons of the login page (configuration only),
"my linked accounts" for the account page, and the upgrade guidance of the OIDC
unmet-requirements page."""
from __future__ import annotations

from typing import Any

from flask import Flask, session
from sqlalchemy.orm import Session

from binding.linking import linked_identities, masked
from binding.login_sessions import ActiveLogin
from binding.upstream_models import UpstreamIdentity
from providers.adapter import with_query

from ..services import services
from .context import federation

ACCOUNT_NOTICE_KEY = "fed_account_notice"


def portals() -> list:
    return list(federation().portals.values())


def account_page_context(db: Session, login: ActiveLogin) -> dict[str, Any]:
    """For the account page, in its view's read-only transaction: the account's upstream
    identities with their portal names (rule 12), and the notice of a link / unlink just done."""
    rows = linked_identities(db, login.account_id)
    return {"linked_accounts": [masked(r) | {"portal": federation().portal_name(r.provider_id)} for r in rows],
            "federation_notice": session.pop(ACCOUNT_NOTICE_KEY, None)}


def upgrade_guidance(db: Session, login: ActiveLogin | None, retry_url: str) -> dict | None:
    """For a login through a portal (rule 8, `003` 2.2.3): where to raise the level (the portal's
    ``upgrade_url``, with ``return_to`` = the restart below so the portal can send the user
    back) and a restart of the federated login that resumes ``retry_url``."""
    from .views import start_url

    if login is None or login.upstream_identity_id is None:
        return None
    row = db.get(UpstreamIdentity, login.upstream_identity_id)
    portal = federation().portals.get(row.provider_id) if row is not None else None
    if portal is None:
        return None
    restart = start_url(portal.id, retry_url)
    upgrade = portal.upgrade_url and with_query(
        portal.upgrade_url, return_to=services().settings.issuer.rstrip("/") + restart)
    return {"portal": portal.name, "upgrade_url": upgrade, "restart_url": restart}


def register_template_helpers(app: Flask) -> None:
    from .views import start_url

    app.jinja_env.globals.update(federation_portals=portals, federation_start_url=start_url)
    app.extensions.setdefault("tongxing.account_page", []).append(account_page_context)
    app.extensions.setdefault("tongxing.unmet_page", []).append(
        lambda db, login, retry_url: {"upgrade": upgrade_guidance(db, login, retry_url)})
