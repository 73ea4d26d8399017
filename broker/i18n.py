"""Chinese by default, English on request (``?lang=en``, remembered in a cookie).

Page strings live in ``broker/messages.py`` as key -> (zh, en); each feature package adds its
own table with ``add_messages`` from its ``register(app)``. Domain errors carry their own two
messages.
"""
from __future__ import annotations

from typing import Mapping
from urllib.parse import urlencode

from flask import current_app, g, request

from .messages import MESSAGES

LOCALES = ("zh", "en")
COOKIE = "lang"


def add_messages(table: Mapping[str, tuple[str, str]]) -> None:
    """Make a package's page strings (key -> (zh, en)) available to ``t()``."""
    MESSAGES.update(table)


def select_locale(default: str) -> str:
    asked = request.args.get("lang")
    if asked in LOCALES:
        return asked
    remembered = request.cookies.get(COOKIE)
    return remembered if remembered in LOCALES else default


def current_locale() -> str:
    return getattr(g, "locale", "zh")


def t(key: str, **params) -> str:
    """The page string ``key`` in the current locale, formatted with ``params``."""
    zh, en = MESSAGES.get(key, (key, key))
    text = zh if current_locale() == "zh" else en
    return text.format(**params) if params else text


def remember_locale(response):
    asked = request.args.get("lang")
    if asked in LOCALES:
        # Secure exactly when the session cookie is (https issuer, or the setting).
        response.set_cookie(COOKIE, asked, max_age=365 * 86400, samesite="Lax", httponly=True,
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def switch_url(locale: str) -> str:
    """This page in ``locale``, keeping its other query parameters (tab, next...)."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [locale]
    return request.path + "?" + urlencode(args, doseq=True)
