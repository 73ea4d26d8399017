"""Settings: frozen dataclasses built once from the environment and an optional TOML file.

Precedence (lowest to highest): defaults, the TOML file named by ``BROKER_CONFIG``,
environment variables, explicit ``overrides`` (used by tests and the demo).

Every field of a section is settable as ``BROKER_<SECTION>_<FIELD>`` (e.g.
``BROKER_LOCKOUT_MAX_FAILURES``) and as ``[section] field = ...`` in TOML. Top-level
fields use the names in ``_TOP_LEVEL_ENV``. ``validate()`` reports every problem at once.
"""
from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
from dataclasses import dataclass, field
from ipaddress import ip_address
from typing import Any, Mapping
from urllib.parse import urlsplit

from .errors import ConfigError

DEMO_SECRET_MARKER = "demo"


@dataclass(frozen=True)
class LockoutSettings:
    """Rule 4 (`000` §6): 5 wrong passwords lock the account for 10 minutes."""

    max_failures: int = 5
    window_seconds: int = 600
    # Credential stuffing: wrong passwords from one IP across accounts before a captcha.
    ip_failure_threshold: int = 30
    ip_window_seconds: int = 600


@dataclass(frozen=True)
class CodeSettings:
    """One-time SMS / email codes (rules 1, 2, 5)."""

    ttl_seconds: int = 300
    max_attempts: int = 5
    length: int = 6
    send_interval_seconds: int = 60
    daily_limit_per_recipient: int = 10
    hourly_limit_per_ip: int = 30


@dataclass(frozen=True)
class PasswordSettings:
    """argon2id parameters (OWASP Password Storage Cheat Sheet: m=19 MiB, t=2, p=1)."""

    argon2_memory_kib: int = 19456
    argon2_time_cost: int = 2
    argon2_parallelism: int = 1
    min_length: int = 8
    max_length: int = 128
    # None ("auto"): one per CPU this process may run on (os.sched_getaffinity).
    max_parallel_hashes: int | None = None


@dataclass(frozen=True)
class SessionSettings:
    absolute_lifetime_seconds: int = 8 * 3600
    idle_timeout_seconds: int = 3600
    # None: Secure cookies unless the issuer is a loopback http:// address.
    cookie_secure: bool | None = None
    cookie_name: str = "tongxing_session"


@dataclass(frozen=True)
class CaptchaSettings:
    ttl_seconds: int = 300
    length: int = 4


@dataclass(frozen=True)
class SmsSettings:
    """How SMS codes leave the broker. ``outbox``: rows in the database, shown at /dev/outbox
    (development, test, demo only); ``webhook``: a signed JSON POST to an SMS provider's relay."""

    gateway: str = "outbox"
    webhook_url: str = ""
    # HMAC-SHA256 key of the X-Tongxing-Signature header (the receiver checks it).
    webhook_secret: str = ""
    timeout_seconds: int = 5


@dataclass(frozen=True)
class EmailSettings:
    """How email codes leave the broker. ``outbox`` as for SMS; ``smtp``: a mail server (RFC 5321)."""

    gateway: str = "outbox"
    smtp_host: str = ""
    smtp_port: int = 587
    # starttls (RFC 3207, port 587), ssl (implicit TLS, RFC 8314, port 465) or none (loopback relay).
    smtp_security: str = "starttls"
    smtp_username: str = ""
    smtp_password: str = ""
    from_address: str = ""
    timeout_seconds: int = 10


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    secret_key: str = ""
    issuer: str = "http://127.0.0.1:5000"
    database_url: str = ""
    redis_url: str = ""
    # Embedded SQLite only: "normal" (WAL's recommended setting: an application crash loses
    # nothing, a power cut may lose the last commits, never corrupts), "full" (fsync per commit)
    # or "auto": full in production, normal otherwise.
    sqlite_synchronous: str = "auto"
    instance_path: str = ""
    demo: bool = False
    demo_captcha: str = ""
    log_level: str = "INFO"
    default_locale: str = "zh"
    # Reverse proxies in front of the broker whose X-Forwarded-For/-Proto/-Host are believed.
    trusted_proxies: int = 0
    lockout: LockoutSettings = field(default_factory=LockoutSettings)
    codes: CodeSettings = field(default_factory=CodeSettings)
    password: PasswordSettings = field(default_factory=PasswordSettings)
    session: SessionSettings = field(default_factory=SessionSettings)
    captcha: CaptchaSettings = field(default_factory=CaptchaSettings)
    sms: SmsSettings = field(default_factory=SmsSettings)
    email: EmailSettings = field(default_factory=EmailSettings)
    # Raw tables of the TOML file read by other parts (EXTRA_TABLES), checked there.
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def sqlite_synchronous_mode(self) -> str:
        """``sqlite_synchronous`` with "auto" decided: production keeps every commit on disk."""
        if self.sqlite_synchronous == "auto":
            return "full" if self.production else "normal"
        return self.sqlite_synchronous

    @property
    def issuer_is_loopback(self) -> bool:
        return _is_loopback_http(self.issuer)

    @property
    def cookie_secure(self) -> bool:
        if self.session.cookie_secure is not None:
            return self.session.cookie_secure
        return not self.issuer_is_loopback

    def validate(self) -> list[str]:
        """Every problem with these settings, each naming its setting."""
        return _validate(self)


_TOP_LEVEL_ENV = {
    "env": "BROKER_ENV",
    "secret_key": "SECRET_KEY",
    "issuer": "BROKER_ISSUER",
    "database_url": "DATABASE_URL",
    "redis_url": "REDIS_URL",
    "sqlite_synchronous": "BROKER_SQLITE_SYNCHRONOUS",
    "instance_path": "BROKER_INSTANCE",
    "demo": "BROKER_DEMO",
    "demo_captcha": "BROKER_DEMO_CAPTCHA",
    "log_level": "BROKER_LOG_LEVEL",
    "default_locale": "BROKER_DEFAULT_LOCALE",
    "trusted_proxies": "BROKER_TRUSTED_PROXIES",
}
_SECTIONS = ("lockout", "codes", "password", "session", "captcha", "sms", "email")
# Top-level TOML tables kept raw in ``Settings.extra`` for the parts that check them:
# ``[oidc]`` and ``[[clients]]`` (binding.oauth.config), ``[[providers]]`` (providers.registry).
EXTRA_TABLES = ("oidc", "clients", "providers")
_ENVS = ("development", "test", "production")
SQLITE_SYNCHRONOUS = ("auto", "normal", "full")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_SMS_GATEWAYS = ("outbox", "webhook")
_EMAIL_GATEWAYS = ("outbox", "smtp")
_SMTP_SECURITY = ("starttls", "ssl", "none")


def env_name(section: str | None, name: str) -> str:
    """The environment variable that sets a field."""
    if section is None:
        return _TOP_LEVEL_ENV[name]
    return f"BROKER_{section}_{name}".upper()


def setting_reference() -> list[tuple[str, str, Any]]:
    """(env variable, TOML key, default) for every setting: the README's table comes from here."""
    rows = []
    defaults = Settings()
    for f in dataclasses.fields(Settings):
        if f.name in _SECTIONS:
            section = getattr(defaults, f.name)
            for sf in dataclasses.fields(section):
                rows.append((env_name(f.name, sf.name), f"{f.name}.{sf.name}", getattr(section, sf.name)))
        elif f.name in _TOP_LEVEL_ENV:
            rows.append((env_name(None, f.name), f.name, getattr(defaults, f.name)))
    return rows


def load_settings(
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    check: bool = True,
) -> Settings:
    """Build settings from TOML + environment + overrides; raise ConfigError listing all problems.

    ``overrides`` takes the TOML shape: ``{"lockout": {"max_failures": 3}, "issuer": ...}``.
    """
    settings, problems = read_settings(environ, overrides, check=check)
    if problems:
        raise ConfigError(problems)
    return settings


def read_settings(
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    check: bool = True,
) -> tuple[Settings, list[str]]:
    """(settings, every problem found) without raising, so a caller can add the problems of
    the tables it checks itself and report them all together. Bad values keep their default."""
    environ = os.environ if environ is None else environ
    problems: list[str] = []
    data: dict[str, Any] = {}
    path = environ.get("BROKER_CONFIG")
    if path:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            problems.append(f"BROKER_CONFIG: cannot read {path}: {exc}")
    _merge(data, _from_environ(environ))
    _merge(data, dict(overrides or {}))
    settings = _build(data, problems)
    if check:
        problems.extend(settings.validate())
    return settings, problems


def _from_environ(environ: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, var in _TOP_LEVEL_ENV.items():
        if var in environ:
            out[name] = environ[var]
    for section in _SECTIONS:
        cls = _section_class(section)
        for f in dataclasses.fields(cls):
            var = env_name(section, f.name)
            if var in environ:
                out.setdefault(section, {})[f.name] = environ[var]
    return out


def _merge(base: dict[str, Any], new: Mapping[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = dict(value) if isinstance(value, Mapping) else value


def _section_class(section: str) -> type:
    return {f.name: f.default_factory for f in dataclasses.fields(Settings) if f.name in _SECTIONS}[section]


def _build(data: Mapping[str, Any], problems: list[str]) -> Settings:
    kwargs: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    types = {f.name: f.type for f in dataclasses.fields(Settings)}
    for key, value in data.items():
        if key in _SECTIONS:
            kwargs[key] = _build_section(key, value, problems)
        elif key in _TOP_LEVEL_ENV:
            _set_coerced(kwargs, key, value, types[key], env_name(None, key), problems)
        elif key in EXTRA_TABLES:
            extra[key] = value
        else:
            problems.append(_unknown_top_level(key, value))
    return Settings(**kwargs, extra=extra)


def _unknown_top_level(key: str, value: Any) -> str:
    """A misspelt setting or section is an error, never silently ignored."""
    known = [*_TOP_LEVEL_ENV, *_SECTIONS, *EXTRA_TABLES]
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    if isinstance(value, (Mapping, list)):
        return f"[{key}]: unknown section{hint}; known sections: {', '.join([*_SECTIONS, *EXTRA_TABLES])}"
    return f"{key}: unknown setting{hint}"


def _build_section(section: str, values: Any, problems: list[str]):
    cls = _section_class(section)
    if not isinstance(values, Mapping):
        problems.append(f"[{section}]: must be a table")
        return cls()
    known = {f.name: f.type for f in dataclasses.fields(cls)}
    kwargs = {}
    for name, value in values.items():
        if name not in known:
            problems.append(f"{section}.{name}: unknown setting")
            continue
        _set_coerced(kwargs, name, value, known[name], env_name(section, name), problems)
    return cls(**kwargs)


def _set_coerced(target: dict, key: str, value: Any, type_name: Any, where: str, problems: list[str]) -> None:
    """Coerce into ``target[key]``; on a bad value record the problem and keep the default."""
    try:
        target[key] = _coerce(value, str(type_name))
    except (TypeError, ValueError) as exc:
        problems.append(f"{where}: {exc}")


def _coerce(value: Any, type_name: str) -> Any:
    if type_name.startswith("bool"):
        return _coerce_bool(value, optional="None" in type_name)
    if type_name.startswith("int"):
        if "None" in type_name and (value is None or str(value).strip().lower() in ("", "none", "auto")):
            return None
        if isinstance(value, bool):
            raise ValueError("expected an integer")
        return int(value)
    return str(value)


def _coerce_bool(value: Any, optional: bool) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if optional and text in ("", "none", "auto"):
        return None
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true/false, got {value!r}")


def _is_loopback_http(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme != "http":
        return False
    host = parts.hostname or ""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _validate(s: Settings) -> list[str]:
    problems: list[str] = []
    if s.env not in _ENVS:
        problems.append(f"BROKER_ENV: must be one of {', '.join(_ENVS)}, got {s.env!r}")
    parts = urlsplit(s.issuer)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        problems.append("BROKER_ISSUER: must be an http(s) URL without query or fragment")
    elif parts.scheme == "http" and not s.issuer_is_loopback and s.production:
        problems.append("BROKER_ISSUER: production needs https:// (http:// only on loopback)")
    if s.production:
        if not s.secret_key:
            problems.append("SECRET_KEY: required in production")
        elif DEMO_SECRET_MARKER in s.secret_key.lower() or len(s.secret_key) < 32:
            problems.append("SECRET_KEY: production refuses demo secrets and keys shorter than 32 characters")
        if s.demo:
            problems.append("BROKER_DEMO: demo mode refuses to run with BROKER_ENV=production")
        if s.demo_captcha:
            problems.append("BROKER_DEMO_CAPTCHA: not allowed in production")
    if s.default_locale not in ("zh", "en"):
        problems.append("BROKER_DEFAULT_LOCALE: must be zh or en")
    if s.log_level.upper() not in _LOG_LEVELS:
        problems.append(f"BROKER_LOG_LEVEL: must be one of {', '.join(_LOG_LEVELS)}, got {s.log_level!r}")
    if s.sqlite_synchronous not in SQLITE_SYNCHRONOUS:
        problems.append(f"BROKER_SQLITE_SYNCHRONOUS: must be one of {', '.join(SQLITE_SYNCHRONOUS)}, "
                        f"got {s.sqlite_synchronous!r}")
    if not 0 <= s.trusted_proxies <= 10:
        problems.append("BROKER_TRUSTED_PROXIES: the number of proxies in front of the broker, 0 to 10")
    for section in _SECTIONS:
        for f in dataclasses.fields(getattr(s, section)):
            value = getattr(getattr(s, section), f.name)
            if isinstance(value, int) and not isinstance(value, bool) and value <= 0:
                problems.append(f"{env_name(section, f.name)}: must be a positive integer")
    if s.password.min_length > s.password.max_length:
        problems.append("BROKER_PASSWORD_MIN_LENGTH: larger than BROKER_PASSWORD_MAX_LENGTH")
    if s.lockout.ip_failure_threshold <= s.lockout.max_failures:
        problems.append("BROKER_LOCKOUT_IP_FAILURE_THRESHOLD: must sit above BROKER_LOCKOUT_MAX_FAILURES")
    problems.extend(_sms_problems(s.sms, s.production))
    problems.extend(_email_problems(s.email, s.production))
    return problems


def _sms_problems(sms: SmsSettings, production: bool) -> list[str]:
    if sms.gateway not in _SMS_GATEWAYS:
        return [f"BROKER_SMS_GATEWAY: must be one of {', '.join(_SMS_GATEWAYS)}, got {sms.gateway!r}"]
    if sms.gateway == "outbox":
        return ["BROKER_SMS_GATEWAY: production cannot keep codes in the development outbox; use webhook"] \
            if production else []
    problems = []
    parts = urlsplit(sms.webhook_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append("BROKER_SMS_WEBHOOK_URL: an http(s) URL is required with the webhook gateway")
    elif production and parts.scheme == "http" and not _is_loopback_http(sms.webhook_url):
        problems.append("BROKER_SMS_WEBHOOK_URL: production needs https:// (http:// only on loopback)")
    if not sms.webhook_secret:
        problems.append("BROKER_SMS_WEBHOOK_SECRET: required with the webhook gateway (signs each request)")
    elif production and (DEMO_SECRET_MARKER in sms.webhook_secret.lower() or len(sms.webhook_secret) < 32):
        problems.append("BROKER_SMS_WEBHOOK_SECRET: production refuses demo secrets and secrets under 32 characters")
    return problems


def _email_problems(email: EmailSettings, production: bool) -> list[str]:
    if email.gateway not in _EMAIL_GATEWAYS:
        return [f"BROKER_EMAIL_GATEWAY: must be one of {', '.join(_EMAIL_GATEWAYS)}, got {email.gateway!r}"]
    if email.gateway == "outbox":
        return ["BROKER_EMAIL_GATEWAY: production cannot keep codes in the development outbox; use smtp"] \
            if production else []
    problems = []
    if not email.smtp_host:
        problems.append("BROKER_EMAIL_SMTP_HOST: required with the smtp gateway")
    if "@" not in email.from_address:
        problems.append("BROKER_EMAIL_FROM_ADDRESS: an address is required with the smtp gateway")
    if email.smtp_security not in _SMTP_SECURITY:
        problems.append(f"BROKER_EMAIL_SMTP_SECURITY: must be one of {', '.join(_SMTP_SECURITY)}")
    elif production and email.smtp_security == "none" and not _is_loopback_host(email.smtp_host):
        problems.append("BROKER_EMAIL_SMTP_SECURITY: production sends over TLS (none only to a loopback relay)")
    if bool(email.smtp_username) != bool(email.smtp_password):
        problems.append("BROKER_EMAIL_SMTP_PASSWORD: smtp_username and smtp_password go together")
    return problems


def _is_loopback_host(host: str) -> bool:
    return _is_loopback_http(f"http://{host}")
