"""Refusals of the OIDC provider that are shown to the user on their own page. They are
``DomainError``s, so ``broker.errors`` (the one place mapping errors to HTTP) answers them:
JSON for programs, the page named by ``page`` for people."""
from __future__ import annotations

from types import SimpleNamespace

from authlib.oauth2.rfc6749 import OAuth2Error

from binding.errors import DomainError


class UnmetAuthenticationRequirements(OAuth2Error):
    """OpenID Connect Unmet Authentication Requirements 1.0 §3 (sent to the client)."""

    error = "unmet_authentication_requirements"


class OAuthRequestRefused(DomainError):
    """A request that must not be answered by a redirect: unknown client, unverified redirect
    URI (RFC 6749 §4.1.2.1), an invalid logout request (RP-Initiated Logout §4)."""

    code = "oauth_request_invalid"

    def __init__(self, oauth_error: str, description: str):
        super().__init__("发起登录的系统提供的信息有误，为保护您的账号，我们不会把您带回该系统。",
                         "The portal that sent you here made an invalid request; to protect your account "
                         "we will not send you back to it.", oauth_error=oauth_error, description=description)
        self.page = ("oidc/request_error.html", {"error": oauth_error, "description": description})

    @classmethod
    def of(cls, error: OAuth2Error) -> "OAuthRequestRefused":
        return cls(error.error, error.get_error_description() or error.error)


class UnmetRequirements(DomainError):
    """The login falls short of the client's policy (DOMAIN rules 8, 9, 24): the user sees why
    and what to do; giving up sends the client ``access_denied`` / ``unmet_authentication_requirements``."""

    code = "unmet_requirements"

    def __init__(self, client, shortfalls, params, retry_url: str, *, headers: dict | None = None):
        super().__init__(f"本次登录不满足 {client.name} 的访问要求", f"This login does not meet {client.name}'s requirements",
                         client_id=client.client_id, retry_url=retry_url,
                         shortfalls=[{"code": s.code, **s.data} for s in shortfalls])
        # The page renders after the transaction ended: a plain copy of what it shows of the client.
        shown = SimpleNamespace(client_id=client.client_id, name=client.name)
        self.page = ("oidc/unmet.html", {"client": shown, "shortfalls": shortfalls, "params": params,
                                         "retry_url": retry_url})
        self.headers = headers or {}


__all__ = ["OAuthRequestRefused", "UnmetAuthenticationRequirements", "UnmetRequirements"]
