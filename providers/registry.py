"""The registry of adapter types and ``build_providers``, which turns the ``[[providers]]``
tables of the TOML config into adapters, reporting every problem at once (``ConfigError``).

A new protocol is a new module with an adapter class and one entry in ``ADAPTER_TYPES``."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import requests

from config import Clock, ConfigError

from .adapter import BaseAdapter
from .cas import CASAdapter
from .http import BackChannel
from .oauth2 import OAuth2Adapter
from .oidc import OIDCAdapter
from .qq import QQAdapter
from .schema import label, parse_provider
from .wechat import WeChatAdapter
from .weibo import WeiboAdapter

ADAPTER_TYPES: dict[str, type[BaseAdapter]] = {
    cls.TYPE: cls for cls in (OIDCAdapter, OAuth2Adapter, CASAdapter, WeChatAdapter, QQAdapter, WeiboAdapter)
}


def build_providers(tables: Iterable[Mapping[str, Any]] | None, *, http: requests.Session | None = None,
                    clock: Clock | None = None, production: bool = False) -> dict[str, BaseAdapter]:
    """Adapters by id, in config order. ``http`` is the session every back-channel call uses
    (one per broker: connection pooling; by default a ``providers.http.BackChannel``);
    ``clock`` drives ID token times and caches; ``production`` requires https URLs."""
    if tables is None:
        tables = []
    if not isinstance(tables, (list, tuple)):
        raise ConfigError(["providers: must be a list of tables (write [[providers]], not [providers])"])
    problems: list[str] = []
    adapters: dict[str, BaseAdapter] = {}
    http = http if http is not None else BackChannel()
    seen: set[str] = set()
    for index, table in enumerate(tables):
        where = label(table, index)
        if not isinstance(table, Mapping):
            problems.append(f"{where}: must be a table ([[providers]])")
            continue
        kind = table.get("type")
        cls = ADAPTER_TYPES.get(kind) if isinstance(kind, str) else None
        if cls is None:
            problems.append(f"{where}.type: must be one of {', '.join(ADAPTER_TYPES)} (got {kind!r})")
            continue
        pid = table.get("id")
        if isinstance(pid, str) and pid in seen:
            problems.append(f"{where}.id: duplicate id {pid!r} (ids name the callback URL)")
        seen.add(pid)
        config, found = parse_provider(table, index, cls, production)
        problems += found
        if config is not None and not found:
            adapters[config.id] = cls(config, http=http, clock=clock)
    if problems:
        raise ConfigError(problems)
    return adapters
