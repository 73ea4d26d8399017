"""One case per adapter type: the provider table the demo uses (``sandbox.portals.demo_config``,
the one source of the sandbox's tables, so the contract tests what the demo runs), a sandbox
account, and the identity that account must give. The README's TOML examples are checked by
tests/unit/providers/test_provider_readme.py."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from sandbox.portals.accounts import AccountStore
from sandbox.portals.demo_config import provider_tables
from sandbox.portals.weibo import uid_of

BROKER = "http://127.0.0.1:5000"        # nothing listens there: portal_login stops at the redirect
CLIENT_ID = "tongxing"
CLIENT_SECRET = "tongxing-sandbox-secret"
PASSWORD = "Portal@2026"
_ACCOUNTS = AccountStore()


def callback_url(provider_id: str) -> str:
    return f"{BROKER}/federation/callback/{provider_id}"


def _social(portal: str, username: str, subject: str, issuer_path: str) -> dict[str, Any]:
    account = _ACCOUNTS.get(portal, username)
    return {"subject": subject, "issuer": issuer_path, "login_name": None, "account_kind": "personal",
            "cert_level": 1, "phone": None, "phone_verified": False, "display_name": account.name}


def _portal(portal: str, username: str, kind: str, issuer_path: str, **extra) -> dict[str, Any]:
    account = _ACCOUNTS.get(portal, username)
    return {"subject": account.subject, "issuer": issuer_path, "login_name": username, "account_kind": kind,
            "cert_level": account.level, "phone": account.phone, "phone_verified": True,
            "display_name": account.name, **extra}


@dataclass(frozen=True)
class Case:
    id: str
    username: str
    expected: dict[str, Any]
    backchannel: str = "token"        # the sandbox fault kind of the code/ticket redemption
    # The callback of a login the user refused at the portal (RFC 6749 §4.1.2.1), given the state
    # and the opaque data (RFC 9207: an OIDC portal names itself in error answers too).
    denied: Callable[[str, dict], dict] = field(
        default=lambda state, opaque: {"state": state, "error": "access_denied"})

    def tables(self, base: str) -> list[dict[str, Any]]:
        return [t for t in provider_tables(base, CLIENT_ID, CLIENT_SECRET, timeout_seconds=2) if t["id"] == self.id]


_wx = _ACCOUNTS.get("wechat", "wx_zhang")
_qq = _ACCOUNTS.get("qq", "qq_zhang")
CASES = [
    Case("sd-portal", "sd_zhang", _portal("sd-portal", "sd_zhang", "personal", "/sd-portal"),
         denied=lambda state, opaque: {"state": state, "error": "access_denied", "iss": opaque["issuer"]}),
    Case("bj-yzt", "yzt_a", _portal("bj-yzt", "yzt_a", "legal", "/bj-yzt",
                                    enterprise_name="北京示例科技有限公司", uscc="91110108MA01BJ2K6M")),
    Case("miit", "91110114MA04CP5F95",
         {"subject": "91110114MA04CP5F95", "issuer": "/miit/cas", "login_name": "91110114MA04CP5F95",
          "account_kind": "legal", "cert_level": 3, "phone": "13800138014", "phone_verified": True,
          "display_name": "王精工", "enterprise_name": "北京示例精工股份有限公司", "uscc": "91110114MA04CP5F95"},
         backchannel="validate",
         # CAS has no error parameter: a login abandoned at the portal comes back without a ticket.
         denied=lambda state, opaque: {"state": state}),
    Case("wechat", "wx_zhang", _social("wechat", "wx_zhang", _wx.union_id, "/wechat")),
    Case("qq", "qq_zhang", _social("qq", "qq_zhang", _qq.union_id.upper(), "/qq")),
    Case("weibo", "wb_zhang", _social("weibo", "wb_zhang", str(uid_of(_ACCOUNTS.get("weibo", "wb_zhang"))),
                                     "/weibo")),
]
