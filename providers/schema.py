"""Validation of one ``[[providers]]`` table (ISSUE4.md "Provider config").

Each adapter class declares its own keys (``KEYS``) and default claim mapping; the keys every
provider shares are below. ``parse_provider`` returns every problem at once, each naming the
provider and the key, so an operator fixes the whole file in one pass.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import urlsplit

from .mapping import ClaimMapping, merge_claims

# The id is the path segment of the broker callback (/federation/callback/<id>).
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


@dataclass(frozen=True)
class Key:
    """One config key: ``kind`` is str | url | secret | number | count | bool | strings | choice."""

    kind: str = "str"
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()


COMMON_KEYS: dict[str, Key] = {
    "id": Key("str", required=True),
    "type": Key("str", required=True),
    "display_name": Key("str", required=True),
    "display_name_en": Key("str"),
    "logo": Key("str"),
    "upgrade_url": Key("url"),
    "timeout_seconds": Key("number", default=5),
}


@dataclass(frozen=True)
class ProviderConfig:
    """A validated provider table: the shared keys as attributes, type-specific ones in
    ``options`` (defaults filled in)."""

    id: str
    type: str
    display_name: str
    display_name_en: str | None
    logo: str | None
    upgrade_url: str | None
    timeout_seconds: float
    claims: ClaimMapping
    # Holds client secrets: kept out of repr() so a logged config never shows them.
    options: Mapping[str, Any] = field(default_factory=dict, repr=False)


def label(table: Any, index: int) -> str:
    """How problems name a provider: ``providers[sd-portal]`` or ``providers[#2]``."""
    pid = table.get("id") if isinstance(table, Mapping) else None
    return f"providers[{pid}]" if isinstance(pid, str) and pid else f"providers[#{index + 1}]"


def parse_provider(table: Mapping[str, Any], index: int, adapter_cls: type,
                   production: bool = False) -> tuple[ProviderConfig | None, list[str]]:
    """``production``: every URL must be https (the broker's back channel carries secrets and
    codes there, and a plain-http URL lets the network redirect it: SSRF / token theft)."""
    where = label(table, index)
    keys = {**COMMON_KEYS, **adapter_cls.KEYS}
    problems: list[str] = []
    values: dict[str, Any] = {}
    for name, key in keys.items():
        value, problem = _value(table, name, key)
        if not problem and production and key.kind == "url" and isinstance(value, str) \
                and urlsplit(value).scheme != "https":
            problem = "must be an https:// URL in production"
        if problem:
            problems.append(f"{where}.{name}: {problem}")
        values[name] = value
    for name in table:
        if name not in keys and name != "claims":
            problems.append(f"{where}.{name}: unknown key for type {adapter_cls.TYPE!r} (typo?)")
    pid = values["id"]
    if isinstance(pid, str) and not _ID.match(pid):
        problems.append(f"{where}.id: must be 1-63 lowercase letters, digits, '-' or '_' "
                        "(it is a path segment of the callback URL)")
    claims_table = table.get("claims", {})
    if not isinstance(claims_table, Mapping):
        problems.append(f"{where}.claims: must be a table")
        claims_table = {}
    mapping, found = ClaimMapping.parse(merge_claims(adapter_cls.DEFAULT_CLAIMS, claims_table), f"{where}.claims")
    problems += found
    problems += [f"{where}.{p}" for p in adapter_cls.check(values)]
    if problems:
        return None, problems
    common = {k: values.pop(k) for k in COMMON_KEYS}
    return ProviderConfig(claims=mapping, options=values, **common), []


def _value(table: Mapping[str, Any], name: str, key: Key) -> tuple[Any, str | None]:
    if name not in table or table[name] is None:
        return key.default, ("required" if key.required else None)
    value = table[name]
    kind = key.kind
    if kind in ("str", "secret"):
        ok = isinstance(value, str) and value.strip() != ""
        return value, None if ok else "must be a non-empty string"
    if kind == "url":
        return value, None if _is_url(value) else "must be an http:// or https:// URL"
    if kind == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 120
        return value, None if ok else "must be a number of seconds between 0 and 120"
    if kind == "count":
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 86400
        return value, None if ok else "must be a whole number of seconds between 0 and 86400"
    if kind == "bool":
        return value, None if isinstance(value, bool) else "must be true or false"
    if kind == "strings":
        ok = isinstance(value, list) and value and all(isinstance(v, str) and v for v in value)
        return value, None if ok else "must be a non-empty list of strings"
    if kind == "choice":
        ok = value in key.choices
        return value, None if ok else f"must be one of {', '.join(key.choices)}"
    raise AssertionError(f"unknown key kind {kind}")


def _is_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.fragment
