"""Login, registration and password reset pages (and their JSON answers).

The routes live in small modules (``login``, ``signup``, ``recovery``, ``account``) that
attach to this blueprint; ``register(app)`` wires them and the image captcha in."""
from __future__ import annotations

from flask import Blueprint, Flask, url_for

from .helpers import DEFAULT_NEXT

bp = Blueprint("auth", __name__)


@bp.app_template_global("auth_url")
def auth_url(endpoint: str, **args) -> str:
    """A page URL that carries ``next`` only when it is not the default."""
    if args.get("next") == DEFAULT_NEXT:
        args.pop("next")
    return url_for(endpoint, **{k: v for k, v in args.items() if v is not None})


def register(app: Flask) -> None:
    from .. import captcha
    from ..i18n import add_messages
    from . import account, login, recovery, signup  # noqa: F401  (routes attach to bp)
    from .messages import AUTH_MESSAGES

    add_messages(AUTH_MESSAGES)
    app.register_blueprint(bp)
    captcha.register(app)
