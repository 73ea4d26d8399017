"""The claim mapping: upstream claims -> ``providers.base.Identity`` (ISSUE4.md, DOMAIN rule 10).

In the provider's ``[providers.claims]`` table each normalised field names where its value is:

- ``field = "path"``: a claim; dotted paths walk nested objects (``"data.mobile"``) and list
  indexes (``"emails.0"``); a claim whose own name contains dots is tried first;
- ``field = ["unionid", "openid"]``: the first of these present;
- ``field = { claim = "path", map = { upstream = normalised }, default = value }``: with a value
  map (how ``account_kind`` and ``cert_level`` are read) and a default;
- ``field = { value = constant }``, or ``<field>_default = constant``: a constant / a default
  used when the claim is absent or empty.

A missing subject, or a kind/level the map cannot translate, is ``upstream_invalid``: we never
guess a kind or a level (rules 8-9 rely on them). An absent kind or level falls back to the
default, else the least privileged value (personal, level 1).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .base import ACCOUNT_KINDS, Identity
from .errors import Names

FIELDS = ("subject", "login_name", "phone", "phone_verified", "name", "enterprise_name", "uscc",
          "account_kind", "cert_level")
# Normalised field -> Identity attribute, where the names differ.
_ATTRIBUTE = {"name": "display_name"}
_TABLE_KEYS = {"claim", "map", "default", "value"}
_TRUE = {"true", "1", "yes", "y", "t"}


@dataclass(frozen=True)
class FieldRule:
    paths: tuple[str, ...] = ()
    value_map: Mapping[str, Any] | None = None
    default: Any = None


@dataclass(frozen=True)
class ClaimMapping:
    rules: Mapping[str, FieldRule]

    @classmethod
    def parse(cls, table: Mapping[str, Any], prefix: str = "claims") -> tuple["ClaimMapping", list[str]]:
        """Parse a claims table; returns the mapping and every problem (each naming its key)."""
        problems: list[str] = []
        rules: dict[str, FieldRule] = {}
        defaults: dict[str, Any] = {}
        for key, spec in table.items():
            if key.endswith("_default") and key[: -len("_default")] in FIELDS:
                fld = key[: -len("_default")]
                problems += _check_value(fld, spec, f"{prefix}.{key}")
                defaults[fld] = spec
            elif key in FIELDS:
                rule, found = _parse_rule(key, spec, f"{prefix}.{key}")
                problems += found
                rules[key] = rule
            else:
                problems.append(f"{prefix}.{key}: unknown field (known: {', '.join(FIELDS)}, or <field>_default)")
        for fld, value in defaults.items():
            rule = rules.get(fld, FieldRule())
            rules[fld] = FieldRule(rule.paths, rule.value_map, value)
        if "subject" not in rules or not rules["subject"].paths:
            problems.append(f"{prefix}.subject: required (the claim naming the user at the upstream)")
        return cls(rules), problems

    def identity(self, provider_id: str, issuer: str, claims: Mapping[str, Any], names: Names) -> Identity:
        """The normalised identity these claims describe (``upstream_invalid`` without a subject)."""
        values: dict[str, Any] = {}
        for fld in FIELDS:
            rule = self.rules.get(fld)
            if rule is None:
                continue
            values[fld] = _convert(fld, rule, _first(claims, rule.paths), names)
        subject = values.pop("subject", None)
        if not subject:
            raise names.invalid("subject", "缺少用户标识", "no subject in the answer")
        if not values.get("phone"):
            values["phone_verified"] = False
        kwargs = {_ATTRIBUTE.get(k, k): v for k, v in values.items() if v is not None}
        return Identity(provider_id=provider_id, issuer=issuer, subject=subject, **kwargs)


def merge_claims(defaults: Mapping[str, Any], table: Mapping[str, Any]) -> dict[str, Any]:
    """An adapter's default mapping overridden field by field by the operator's table."""
    merged = dict(defaults)
    merged.update(table)
    return merged


def _parse_rule(fld: str, spec: Any, where: str) -> tuple[FieldRule, list[str]]:
    if isinstance(spec, str) or _is_str_list(spec):
        paths, problems = _paths(spec, where)
        return FieldRule(paths), problems
    if not isinstance(spec, Mapping):
        return FieldRule(), [f"{where}: must be a claim name, a list of claim names or a table"]
    problems = [f"{where}.{k}: unknown key (known: {', '.join(sorted(_TABLE_KEYS))})"
                for k in spec if k not in _TABLE_KEYS]
    if "value" in spec:
        if "claim" in spec:
            problems.append(f"{where}: give either claim or value, not both")
        problems += _check_value(fld, spec["value"], f"{where}.value")
        return FieldRule((), None, spec["value"]), problems
    if "claim" in spec:
        paths, found = _paths(spec["claim"], f"{where}.claim")
        problems += found
    else:
        paths = ()
        problems.append(f"{where}.claim: required (or value = a constant)")
    value_map = spec.get("map")
    if value_map is not None:
        if not isinstance(value_map, Mapping) or not value_map:
            problems.append(f"{where}.map: must be a non-empty table of upstream value = normalised value")
            value_map = None
        else:
            for upstream, normalised in value_map.items():
                problems += _check_value(fld, normalised, f"{where}.map.{upstream}")
            value_map = {str(k): v for k, v in value_map.items()}
    default = spec.get("default")
    if default is not None:
        problems += _check_value(fld, default, f"{where}.default")
    return FieldRule(paths, value_map, default), problems


def _paths(spec: Any, where: str) -> tuple[tuple[str, ...], list[str]]:
    if isinstance(spec, str):
        spec = [spec]
    if not _is_str_list(spec) or not spec or not all(p.strip() for p in spec):
        return (), [f"{where}: must be a non-empty claim name or list of claim names"]
    return tuple(spec), []


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _check_value(fld: str, value: Any, where: str) -> list[str]:
    """Is ``value`` a valid normalised value for ``fld``?"""
    if fld == "account_kind":
        ok, want = value in ACCOUNT_KINDS, f"one of {', '.join(ACCOUNT_KINDS)}"
    elif fld == "cert_level":
        ok, want = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5, "an integer 1-5"
    elif fld == "phone_verified":
        ok, want = isinstance(value, bool), "true or false"
    else:
        ok, want = isinstance(value, str), "a string"
    return [] if ok else [f"{where}: must be {want} (got {value!r})"]


def resolve(claims: Mapping[str, Any], path: str) -> Any:
    """The value at a claim name or dotted path; None when absent."""
    if path in claims:
        return claims[path]
    node: Any = claims
    for part in path.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _first(claims: Mapping[str, Any], paths: tuple[str, ...]) -> Any:
    for path in paths:
        value = resolve(claims, path)
        if value is not None and value != "":
            return value
    return None


def _convert(fld: str, rule: FieldRule, raw: Any, names: Names) -> Any:
    if raw is None:
        return rule.default
    value = raw
    if rule.value_map is not None:
        key = raw if isinstance(raw, str) else str(raw).lower() if isinstance(raw, bool) else str(raw)
        if key not in rule.value_map:
            if fld in ("account_kind", "cert_level"):
                raise _unmapped(fld, names)
            return rule.default
        value = rule.value_map[key]
    if fld == "account_kind":
        if value not in ACCOUNT_KINDS:
            raise _unmapped(fld, names)
        return value
    if fld == "cert_level":
        level = _int(value)
        if level is None or not 1 <= level <= 5:
            raise _unmapped(fld, names)
        return level
    if fld == "phone_verified":
        return _bool(value)
    if isinstance(value, (Mapping, list, bool)):
        return None  # a structure where a scalar belongs: treat as absent
    return str(value).strip() or None


def _unmapped(fld: str, names: Names):
    zh = "无法识别的账号类型" if fld == "account_kind" else "无法识别的认证等级"
    en = "unrecognised account kind" if fld == "account_kind" else "unrecognised certification level"
    return names.invalid(fld, zh, en)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value == 1
    if isinstance(value, str):
        return value.strip().lower() in _TRUE
    return False
