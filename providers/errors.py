"""The three ways an upstream login fails (codes of ``providers.base.ProviderError``), with
messages a user can act on in Chinese and English. Upstream text is never echoed: only a
short, sanitised error code, because ``error_description`` is attacker-controllable."""
from __future__ import annotations

import re

from .base import ProviderError

UNAVAILABLE = "upstream_unavailable"
DENIED = "upstream_denied"
INVALID = "upstream_invalid"

_SAFE_CODE = re.compile(r"[^A-Za-z0-9_.:-]")


def safe_code(value: object) -> str:
    """An upstream error code reduced to a short printable token (for messages and logs)."""
    return _SAFE_CODE.sub("", str(value))[:40] or "error"


class Names:
    """How a provider is named in messages (its display names)."""

    def __init__(self, provider_id: str, zh: str, en: str | None):
        self.id = provider_id
        self.zh = zh
        self.en = en or zh

    def unavailable(self, what: str) -> ProviderError:
        """Timeouts, refused connections, 5xx: the portal is down, the user may retry."""
        return ProviderError(
            UNAVAILABLE,
            f"暂时无法连接{self.zh}，请稍后重试。",
            f"{self.en} cannot be reached right now. Please try again in a moment.",
            retry=True, provider=self.id, reason=what)

    def denied(self, code: object) -> ProviderError:
        """The user or the portal refused (``error=access_denied``, an errcode, a used code)."""
        code = safe_code(code)
        if code == "cancelled":
            return ProviderError(
                DENIED,
                f"您没有在{self.zh}完成登录。请重新登录，或改用其他方式登录。",
                f"The sign-in at {self.en} was not completed. Please sign in again or use another way.",
                provider=self.id, reason=code)
        return ProviderError(
            DENIED,
            f"{self.zh}未允许本次登录（{code}）。请重新登录，或改用其他方式登录。",
            f"{self.en} did not allow this sign-in ({code}). Please sign in again or use another way.",
            provider=self.id, reason=code)

    def invalid(self, reason: str, zh: str, en: str) -> ProviderError:
        """An answer that fails validation (signature, issuer, audience, nonce, state...).
        ``reason`` is a stable token (``nonce``, ``iss``...) kept in ``error.data``."""
        return ProviderError(
            INVALID,
            f"{self.zh}返回的登录结果未通过校验（{zh}），请重新登录。",
            f"The sign-in answer from {self.en} failed validation ({en}). Please sign in again.",
            provider=self.id, reason=reason)
