"""The upstream adapter interface, after Dex's connector interface (``connector/connector.go``).

A callback-style adapter holds no state between its two steps. ``login_url`` returns the
upstream URL and *opaque data* (PKCE verifier, nonce, expected issuer...) that the broker
keeps, bound to the browser session that started the login, and hands back to
``handle_callback`` with the callback's query/form parameters. Adapters never see Flask.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, NamedTuple, Protocol

PERSONAL = "personal"
LEGAL = "legal"
ACCOUNT_KINDS = (PERSONAL, LEGAL)


@dataclass(frozen=True)
class Identity:
    """A normalised upstream identity. Keyed by (provider_id, issuer, subject), never by phone.

    ``cert_level`` is the certification level (1-5, DOMAIN "Certification levels") the upstream
    certified *for this login*; ``account_kind`` is personal (自然人) or legal (法人)."""

    provider_id: str
    issuer: str
    subject: str
    account_kind: str = PERSONAL
    cert_level: int = 1
    login_name: str | None = None
    phone: str | None = None
    phone_verified: bool = False
    display_name: str | None = None
    enterprise_name: str | None = None
    uscc: str | None = None


class LoginStart(NamedTuple):
    """``(url, opaque)``: where to send the browser, and what the broker keeps for the callback
    (JSON-serialisable)."""

    url: str
    opaque: Mapping[str, Any]


class ProviderError(Exception):
    """An upstream login that cannot complete. ``code`` is stable; messages in zh and en.

    Codes: ``upstream_unavailable`` (timeout, connection refused, 5xx: worth a retry),
    ``upstream_denied`` (the user or the portal refused), ``upstream_invalid`` (a response
    that fails validation: signature, issuer, audience, nonce, state...)."""

    def __init__(self, code: str, zh: str, en: str, *, retry: bool = False, **data: Any):
        super().__init__(f"{code}: {en}")
        self.code = code
        self.zh = zh
        self.en = en
        self.retry = retry
        self.field = None
        self.data = data

    def message(self, locale: str) -> str:
        return self.zh if locale == "zh" else self.en


class CallbackAdapter(Protocol):
    """What every upstream adapter provides (``providers.registry`` builds them from config)."""

    id: str
    display_name: str
    logo: str | None
    # Added with the adapters of issue 4 (``providers.adapter.BaseAdapter`` sets them from config):
    type: str                   # the registry name: oidc, oauth2, cas, wechat, qq, weibo
    display_name_en: str | None
    upgrade_url: str | None     # where users raise their certification level at this portal

    def login_url(self, callback_url: str, state: str) -> LoginStart:
        """The upstream authorization/login URL for this attempt, and the opaque data to keep."""

    def handle_callback(self, opaque: Mapping[str, Any], params: Mapping[str, str]) -> Identity:
        """Turn the upstream callback into an ``Identity``, or raise ``ProviderError``."""
