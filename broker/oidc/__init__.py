"""The OpenID Connect provider for downstream declaration portals (issue 3).

``register(app)`` builds the Authlib server, the client directory (TOML ``[[clients]]`` +
database) and the back-channel logout sender, and adds the blueprint. Endpoints:
``/.well-known/openid-configuration``, ``/jwks.json``, ``/authorize``, ``/token``,
``/userinfo``, ``/introspect``, ``/revoke``, ``/end_session``.
"""
from __future__ import annotations

from flask import Flask

from sqlalchemy.orm import Session

from binding.oauth import GrantStore, client_from_spec, config_client_specs, oidc_settings
from binding.oauth.demo import DEMO_CLIENTS, seed_demo_clients

from ..services import services, services_of
from ..session import on_session_end
from .context import Provider

__all__ = ["DEMO_CLIENTS", "Provider", "register", "revoke_account_tokens", "seed_demo_clients"]


def register(app: Flask) -> None:
    from ..i18n import add_messages
    from . import authorize, end_session, views  # noqa: F401  (routes attach to bp)
    from .messages import OIDC_MESSAGES
    from .blueprint import bp
    from .logout import BackchannelSender
    from .server import build_server

    add_messages(OIDC_MESSAGES)
    services = services_of(app)
    settings = services.settings
    now = services.clock()
    provider = Provider(
        settings=settings, oidc=oidc_settings(settings),
        config_clients=[client_from_spec(spec, source="config", now=now) for spec in config_client_specs(settings)],
    )
    provider.server = build_server(provider.issuer)
    provider.backchannel = BackchannelSender(services, provider)
    app.extensions["tongxing.oidc"] = provider
    on_session_end(app, provider.backchannel)
    app.register_blueprint(bp)


def revoke_account_tokens(db: Session, account_id: int, reason: str) -> int:
    """Revoke every grant (access and refresh tokens) of an account inside the caller's
    transaction: a disabled account's tokens must not outlive its sessions, nor come back
    when it is enabled again. Needs the app context."""
    from flask import current_app

    provider = current_app.extensions["tongxing.oidc"]
    return GrantStore(db, provider.oidc, services().clock).revoke_account_grants(
        account_id, reason)
