"""The OpenID Connect provider for downstream declaration portals (issue 3).

``register(app)`` builds the Authlib server, the client directory (TOML ``[[clients]]`` +
database) and the back-channel logout sender, and adds the blueprint. Endpoints:
``/.well-known/openid-configuration``, ``/jwks.json``, ``/authorize``, ``/token``,
``/userinfo``, ``/introspect``, ``/revoke``, ``/end_session``.
"""
from __future__ import annotations

from flask import Flask

from binding.oauth import client_from_spec, config_client_specs, oidc_settings
from binding.oauth.demo import DEMO_CLIENTS, seed_demo_clients

from ..session import on_session_end
from .context import Provider

__all__ = ["DEMO_CLIENTS", "Provider", "register", "seed_demo_clients"]


def register(app: Flask) -> None:
    from . import messages  # noqa: F401  (page strings join MESSAGES)
    from .logout import BackchannelSender
    from .server import build_server
    from .views import bp

    services = app.extensions["tongxing"]
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
