"""Federated login through upstream portals (issue 4 "Pages"): the portal buttons of the login
page, the upstream round trip, the linking / conflict / profile pages, "my linked accounts"
and the upgrade guidance on the OIDC provider's unmet-requirements page.

``register(app)`` builds the adapters once from ``settings.extra["providers"]`` (no network:
``/readyz`` never depends on upstreams) and adds the blueprint and template helpers.
"""
from __future__ import annotations

from flask import Flask

from ..services import services_of
from .context import Federation, build_federation

__all__ = ["Federation", "register"]


def register(app: Flask) -> None:
    from ..i18n import add_messages
    from .messages import FEDERATION_MESSAGES
    from .pages import register_template_helpers
    from .views import bp

    services = services_of(app)
    add_messages(FEDERATION_MESSAGES)
    app.extensions["tongxing.federation"] = build_federation(services.settings, services.clock)
    register_template_helpers(app)
    app.register_blueprint(bp)
