"""OIDC provider settings, read from the ``[oidc]`` TOML table (``settings.extra["oidc"]``),
and downstream clients declared in TOML as ``[[clients]]`` tables (``settings.extra["clients"]``).

| TOML key | default | meaning |
|---|---|---|
| oidc.code_ttl_seconds | 60 | authorization code life (single use) |
| oidc.access_token_ttl_seconds | 600 | JWT access token life (RFC 9068) |
| oidc.id_token_ttl_seconds | 600 | ID token life |
| oidc.refresh_idle_seconds | 86400 | a refresh token unused this long dies |
| oidc.refresh_absolute_seconds | 604800 | no refresh past this, counted from the login's grant |
| oidc.client_credentials_ttl_seconds | 600 | access token life for client_credentials |
| oidc.default_alg | "ES256" | signing algorithm for clients that name none (ES256 or RS256) |
| oidc.backchannel_timeout_seconds | 5 | HTTP timeout of one back-channel logout POST |
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit

from config import ConfigError, Settings

from .policy import ClientPolicy, policy_problems

SUPPORTED_ALGS = ("ES256", "RS256")
USER_SCOPES = ("openid", "profile", "phone", "enterprise")
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")


@dataclass(frozen=True)
class OidcSettings:
    code_ttl_seconds: int = 60
    access_token_ttl_seconds: int = 600
    id_token_ttl_seconds: int = 600
    refresh_idle_seconds: int = 86400
    refresh_absolute_seconds: int = 7 * 86400
    client_credentials_ttl_seconds: int = 600
    default_alg: str = "ES256"
    backchannel_timeout_seconds: int = 5

    @property
    def key_retention_seconds(self) -> int:
        """How long a retired key stays in the JWKS: the longest life of a token it signed."""
        return max(self.access_token_ttl_seconds, self.id_token_ttl_seconds, self.client_credentials_ttl_seconds)


def oidc_settings(settings: Settings) -> OidcSettings:
    """The ``[oidc]`` table as OidcSettings; ConfigError names every bad key."""
    raw = settings.extra.get("oidc", {}) or {}
    problems: list[str] = []
    if not isinstance(raw, Mapping):
        raise ConfigError(["[oidc]: must be a table"])
    known = {f.name: f for f in dataclasses.fields(OidcSettings)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            problems.append(f"oidc.{key}: unknown setting")
        elif key == "default_alg":
            if value not in SUPPORTED_ALGS:
                problems.append(f"oidc.default_alg: must be one of {', '.join(SUPPORTED_ALGS)}")
            else:
                values[key] = value
        elif isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            problems.append(f"oidc.{key}: must be a positive integer")
        else:
            values[key] = value
    result = OidcSettings(**values)
    if result.code_ttl_seconds > 600:
        problems.append("oidc.code_ttl_seconds: at most 600 (RFC 6749 §4.1.2)")
    if result.refresh_idle_seconds > result.refresh_absolute_seconds:
        problems.append("oidc.refresh_idle_seconds: larger than oidc.refresh_absolute_seconds")
    if problems:
        raise ConfigError(problems)
    return result


@dataclass(frozen=True)
class ClientSpec:
    """A client as declared (TOML, CLI or demo seed), before it becomes a row."""

    client_id: str
    name: str = ""                     # shown to users; defaults to client_id
    redirect_uris: tuple[str, ...] = ()
    secret: str | None = None          # plain secret (hashed on the way in)
    secret_sha256: str | None = None   # or its hash, so TOML files need not hold the secret
    public: bool = False
    post_logout_redirect_uris: tuple[str, ...] = ()
    backchannel_logout_uri: str | None = None
    grant_types: tuple[str, ...] = ("authorization_code", "refresh_token")
    scopes: tuple[str, ...] = ("openid", "profile", "phone")
    signing_alg: str = "ES256"
    policy: ClientPolicy = ClientPolicy()


_LOOPBACK = ("127.0.0.1", "::1", "localhost")
# Schemes that run code or read local data in the browser: never a place to send a code.
_FORBIDDEN_SCHEMES = ("javascript", "data", "vbscript", "file", "blob", "about")


def redirect_uri_problem(uri: str, *, public: bool, production: bool) -> str | None:
    """Why ``uri`` cannot be registered, or None. RFC 6749 §3.1.2 (absolute, no fragment),
    RFC 9700 §4.1.3 / §2.6 (https; http only on loopback in production), RFC 8252 §7.1
    (private-use schemes such as ``tongxing-app:`` only for native, i.e. public, clients)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return f"{uri!r} is not a URI"
    scheme = parts.scheme.lower()
    if "#" in uri:
        return f"{uri!r} must not contain a fragment (RFC 6749 §3.1.2)"
    if not scheme:
        return f"{uri!r} must be an absolute URI (RFC 6749 §3.1.2)"
    if scheme in _FORBIDDEN_SCHEMES:
        return f"{uri!r}: the {scheme}: scheme is not allowed"
    if scheme in ("http", "https"):
        if not parts.hostname:
            return f"{uri!r} has no host"
        if scheme == "http" and production and parts.hostname not in _LOOPBACK:
            return f"{uri!r}: production requires https (http only on loopback)"
        return None
    if not public:
        return f"{uri!r}: a private-use scheme is only for native (public) clients (RFC 8252 §7.1)"
    return None


def client_spec_problems(spec: ClientSpec, where: str, *, production: bool = False) -> list[str]:
    problems = []
    if not spec.client_id or len(spec.client_id) > 64:
        problems.append(f"{where}.client_id: required, at most 64 characters")
    if not spec.redirect_uris and "authorization_code" in spec.grant_types:
        problems.append(f"{where}.redirect_uris: at least one redirect URI")
    for key, uris in (("redirect_uris", spec.redirect_uris),
                      ("post_logout_redirect_uris", spec.post_logout_redirect_uris)):
        problems.extend(f"{where}.{key}: {p}" for uri in uris
                        if (p := redirect_uri_problem(uri, public=spec.public, production=production)))
    if spec.backchannel_logout_uri and (p := redirect_uri_problem(spec.backchannel_logout_uri, public=False,
                                                                  production=production)):
        problems.append(f"{where}.backchannel_logout_uri: {p}")
    if spec.public:
        if spec.secret or spec.secret_sha256:
            problems.append(f"{where}.secret: a public client has no secret")
        if "client_credentials" in spec.grant_types:
            problems.append(f"{where}.grant_types: a public client cannot use client_credentials")
    elif not (spec.secret or spec.secret_sha256):
        problems.append(f"{where}.secret: a confidential client needs secret or secret_sha256")
    elif spec.secret and production and ("demo" in spec.secret.lower() or len(spec.secret) < 32):
        problems.append(f"{where}.secret: production refuses demo secrets and secrets under 32 characters")
    for grant in spec.grant_types:
        if grant not in GRANT_TYPES:
            problems.append(f"{where}.grant_types: {grant!r} not supported ({', '.join(GRANT_TYPES)})")
    if spec.signing_alg not in SUPPORTED_ALGS:
        problems.append(f"{where}.signing_alg: must be one of {', '.join(SUPPORTED_ALGS)}")
    problems.extend(f"{where}.policy.{p}" for p in policy_problems(spec.policy))
    return problems


def client_spec_from_mapping(raw: Mapping[str, Any], default_alg: str = "ES256") -> ClientSpec:
    """Build a ClientSpec from a TOML table; unknown keys raise ValueError naming them."""
    fields = {f.name for f in dataclasses.fields(ClientSpec)}
    unknown = sorted(set(raw) - fields)
    if unknown:
        raise ValueError(f"unknown keys {', '.join(unknown)}")
    data = dict(raw)
    for key in ("redirect_uris", "post_logout_redirect_uris", "grant_types", "scopes"):
        if key in data:
            data[key] = tuple(data[key])
    data.setdefault("signing_alg", default_alg)
    data["policy"] = ClientPolicy.from_mapping(data.get("policy") or {})
    return ClientSpec(**data)


def config_client_specs(settings: Settings) -> list[ClientSpec]:
    """The ``[[clients]]`` tables; ConfigError lists every problem."""
    raw = settings.extra.get("clients", []) or []
    if not isinstance(raw, list):
        raise ConfigError(["[[clients]]: must be an array of tables"])
    default_alg = oidc_settings(settings).default_alg
    specs, problems, seen = [], [], set()
    for i, table in enumerate(raw):
        where = f"clients[{i}]"
        try:
            spec = client_spec_from_mapping(table, default_alg)
        except (TypeError, ValueError) as exc:
            problems.append(f"{where}: {exc}")
            continue
        problems.extend(client_spec_problems(spec, where, production=settings.production))
        if spec.client_id in seen:
            problems.append(f"{where}.client_id: {spec.client_id!r} declared twice")
        seen.add(spec.client_id)
        specs.append(spec)
    if problems:
        raise ConfigError(problems)
    return specs


__all__ = [
    "ClientSpec", "GRANT_TYPES", "OidcSettings", "SUPPORTED_ALGS", "USER_SCOPES", "client_spec_from_mapping",
    "client_spec_problems", "config_client_specs", "oidc_settings", "redirect_uri_problem",
]
