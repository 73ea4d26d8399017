"""Broker-side refusals of a federated login (not the upstream's: those are
``providers.base.ProviderError``). Domain errors with a page of their own: the federation error
page with a retry link (mapped in ``broker.errors``)."""
from __future__ import annotations

from binding.errors import DomainError


class FederationRefused(DomainError):
    def __init__(self, zh: str, en: str, *, code: str, retry_url: str | None):
        super().__init__(zh, en, code=code, retry=True, retry_url=retry_url)
        # broker.errors adds the message, in the page's language.
        self.page = ("federation/error.html", {"code": code, "retry_url": retry_url})


class StateRejected(FederationRefused):
    """A callback whose ``state`` is unknown, used, expired, from another browser or for another
    portal (RFC 6749 §10.12 CSRF, RFC 9700 §4.4 mix-up): nothing is done with it."""

    def __init__(self, retry_url: str | None):
        super().__init__("登录请求已失效或不是从本浏览器发起的，请重新登录。",
                         "This sign-in attempt has expired or was not started in this browser. Please sign in again.",
                         code="state_invalid", retry_url=retry_url)


class PendingExpired(FederationRefused):
    """The conflict / profile step of a login whose pending identity is gone (used or expired)."""

    def __init__(self):
        super().__init__("本次登录已超时，请重新从门户登录。",
                         "This sign-in has timed out. Please sign in through the portal again.",
                         code="federation_expired", retry_url="/login")


__all__ = ["FederationRefused", "PendingExpired", "StateRejected"]
