"""Per-request collaborators of the OIDC provider: one database transaction per request
(``@unit_of_work``) and the domain objects built on it."""
from __future__ import annotations

import functools
from dataclasses import dataclass

from flask import current_app, g
from sqlalchemy.orm import Session

from binding.oauth import ClientDirectory, ConsentStore, GrantStore, KeyStore, OAuthClient, OidcSettings
from config import Settings

from ..session import services


@dataclass
class Provider:
    """Built once per app (``broker.oidc.register``)."""

    settings: Settings
    oidc: OidcSettings
    config_clients: list[OAuthClient]
    server: object = None           # the Authlib AuthorizationServer
    backchannel: object = None      # the back-channel logout sender

    @property
    def issuer(self) -> str:
        return self.settings.issuer.rstrip("/")


def provider() -> Provider:
    return current_app.extensions["tongxing.oidc"]


def unit_of_work(view):
    """Run ``view`` in one transaction: commit when it returns (Authlib reports protocol errors
    as responses, so a replayed code's revocation is kept), roll back when it raises.

    Call ``broker.session.current_login()`` before the first query: on SQLite every
    transaction takes the write lock, and the login lookup uses its own."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        session = services().sessions()
        g.oidc_db = session
        try:
            result = view(*args, **kwargs)
            session.commit()
            return result
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            g.pop("oidc_db", None)
    return wrapped


def db() -> Session:
    return g.oidc_db


def clients() -> ClientDirectory:
    return ClientDirectory(db(), services().clock, provider().config_clients)


def grants() -> GrantStore:
    return GrantStore(db(), provider().oidc, services().clock)


def consents() -> ConsentStore:
    return ConsentStore(db(), services().clock)


def keys() -> KeyStore:
    return KeyStore(db(), provider().oidc, services().clock)


def now():
    return services().clock()
