"""What the Chinese social logins (WeChat, QQ, Weibo) share: an app id/key and secret, base
URLs that default to the real hosts and that the sandbox can replace (``api_base`` /
``open_base``), and a default mapping for personal accounts at level 1 (social accounts are
not real-name certified: DOMAIN "Certification levels"). Their nicknames are not usernames,
so no ``login_name`` is mapped by default (it would feed the username-conflict rule)."""
from __future__ import annotations

from typing import Any, Mapping

from .adapter import CLIENT_KEYS, BaseAdapter, same
from .schema import Key


class SocialAdapter(BaseAdapter):
    DEFAULT_CLAIMS = {"subject": ["unionid", "openid"], "name": "nickname"}

    @property
    def api(self) -> str:
        return self.options["api_base"].rstrip("/")

    @property
    def open(self) -> str:
        """Where the browser goes to log in (``open_base``; QQ and Weibo serve it from the API host)."""
        return (self.options["open_base"] or self.options["api_base"]).rstrip("/")

    @property
    def issuer(self) -> str:
        """The real host by default; the sandbox's base URL when it stands in."""
        return self.options["issuer"] or self.options["open_base"] or self.options["api_base"]

    def require(self, answer: Mapping[str, Any], key: str, what: str) -> str:
        value = answer.get(key)
        if value in (None, "") or isinstance(value, (dict, list, bool)):
            raise self.names.invalid(what, f"{what} 应答缺少 {key}", f"{what} answer lacks {key}")
        return str(value)

    def check_same(self, expected: str, got: Any, what: str) -> None:
        if not same(expected, None if got is None else str(got)):
            raise self.names.invalid(what, f"{what} 应答与令牌不属于同一用户", f"{what} answer is about another user")


def social_keys(api_base: str, **extra: Key) -> dict[str, Key]:
    """The config keys of a social login whose API lives at ``api_base`` by default."""
    return {**CLIENT_KEYS, "api_base": Key("url", default=api_base), "open_base": Key("url"), **extra,
            "issuer": Key("str")}
