"""Per-request collaborators of the OIDC provider: one database transaction per request
(``@unit_of_work``) and the domain objects built on it."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

from flask import current_app, g
from sqlalchemy.orm import Session

from binding.db import unit_of_work as db_unit_of_work
from binding.oauth import ClientDirectory, ConsentStore, GrantStore, KeyStore, OAuthClient, OidcSettings
from binding.oauth.clients import ClientCache
from binding.oauth.keys import SigningKeyCache
from config import Settings

from ..services import services


@dataclass
class Provider:
    """Built once per app (``broker.oidc.register``)."""

    settings: Settings
    oidc: OidcSettings
    config_clients: list[OAuthClient]
    server: object = None           # the Authlib AuthorizationServer
    backchannel: object = None      # the back-channel logout sender
    # Per-process caches (README "Performance"): client rows and signing keys, a few seconds each.
    client_cache: ClientCache = field(default_factory=ClientCache)
    key_cache: SigningKeyCache = field(default_factory=SigningKeyCache)

    @property
    def issuer(self) -> str:
        return self.settings.issuer.rstrip("/")


def provider() -> Provider:
    return current_app.extensions["tongxing.oidc"]


def unit_of_work(view=None, *, read_only: bool = False, core: bool = False):
    """Run ``view`` in one transaction: commit when it returns (Authlib reports protocol errors
    as responses, so a replayed code's revocation is kept), roll back when it raises.
    ``read_only``: for endpoints that only read (``binding.db.make_read_engine``).
    ``core``: begun on a Core connection (``binding.db.connection_transaction``; the token endpoint).

    Call ``broker.session.current_login()`` before the first query: on SQLite every
    write transaction takes the write lock, and the login lookup uses its own."""
    if view is None:
        return functools.partial(unit_of_work, read_only=read_only, core=core)

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        s = services()
        try:
            with db_unit_of_work(s.engine if core else s.read_sessions if read_only else s.sessions) as session:
                g.oidc_db = session
                return view(*args, **kwargs)
        finally:
            g.pop("oidc_db", None)
            g.pop("oidc_keys", None)
    return wrapped


def db() -> Session:
    return g.oidc_db


def clients() -> ClientDirectory:
    return ClientDirectory(db(), services().clock, provider().config_clients, provider().client_cache)


def grants() -> GrantStore:
    return GrantStore(db(), provider().oidc, services().clock)


def consents() -> ConsentStore:
    return ConsentStore(db(), services().clock)


def keys() -> KeyStore:
    """One KeyStore per request: the access token and the ID token it signs agree on the key."""
    store = g.get("oidc_keys")
    if store is None or store.db is not db():
        store = g.oidc_keys = KeyStore(db(), provider().oidc, services().clock, provider().key_cache)
    return store


def now():
    return services().clock()
