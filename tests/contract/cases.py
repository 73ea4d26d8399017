"""One case per adapter type: the provider as an operator writes it in TOML (the README's
examples, pointed at the sandbox), a sandbox account, and the identity that account must give."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from typing import Any, Callable

from sandbox.portals.accounts import AccountStore
from sandbox.portals.weibo import uid_of

BROKER = "http://127.0.0.1:5000"        # nothing listens there: portal_login stops at the redirect
CLIENT_ID = "tongxing"
CLIENT_SECRET = "tongxing-sandbox-secret"
PASSWORD = "Portal@2026"
_ACCOUNTS = AccountStore()


def callback_url(provider_id: str) -> str:
    return f"{BROKER}/federation/callback/{provider_id}"


SD_PORTAL = """
[[providers]]
id = "sd-portal"
type = "oidc"
display_name = "山东省统一身份认证"
display_name_en = "Shandong unified portal"
issuer = "{base}/sd-portal"
client_id = "tongxing"
client_secret = "tongxing-sandbox-secret"
scopes = ["openid", "profile", "phone"]
timeout_seconds = 2
upgrade_url = "{base}/sd-portal/account"
[providers.claims]
subject = "sub"
login_name = "preferred_username"
phone = "phone_number"
phone_verified = "phone_number_verified"
name = "name"
enterprise_name = "org_name"
uscc = "uscc"
[providers.claims.account_kind]
claim = "user_type"
map = { natural = "personal", legal = "legal" }
[providers.claims.cert_level]
claim = "auth_level"          # an integer 1-5 here; a portal sending "L3" would add map = { L3 = 3, ... }
"""

BJ_YZT = """
[[providers]]
id = "bj-yzt"
type = "oauth2"
display_name = "北京市法人一证通"
display_name_en = "Beijing YZT"
issuer = "{base}/bj-yzt"
authorize_url = "{base}/bj-yzt/oauth/authorize"
token_url = "{base}/bj-yzt/oauth/token"
userinfo_url = "{base}/bj-yzt/api/userinfo"
token_auth_method = "client_secret_post"
client_id = "tongxing"
client_secret = "tongxing-sandbox-secret"
timeout_seconds = 2
[providers.claims]
subject = "data.userId"
login_name = "data.loginName"
phone = "data.mobile"
phone_verified = "data.mobileVerified"
name = "data.realName"
enterprise_name = "data.entName"
uscc = "data.creditCode"
account_kind = { claim = "data.userType", map = { LEGAL = "legal", PERSON = "personal" } }
cert_level = { claim = "data.certLevel" }
"""

MIIT = """
[[providers]]
id = "miit"
type = "cas"
display_name = "工业和信息化部政务服务"
display_name_en = "MIIT government services"
cas_url = "{base}/miit/cas"
cas_version = "3.0"
timeout_seconds = 2
[providers.claims]
subject = "user"
login_name = "user"
phone = "mobile"
phone_verified_default = true
name = "name"
enterprise_name = "entName"
uscc = "creditCode"
account_kind = { claim = "userType", map = { natural = "personal", legal = "legal" } }
cert_level = { claim = "certLevel" }
"""

WECHAT = """
[[providers]]
id = "wechat"
type = "wechat"
display_name = "微信"
display_name_en = "WeChat"
client_id = "tongxing"
client_secret = "tongxing-sandbox-secret"
open_base = "{base}/wechat"
api_base = "{base}/wechat"
timeout_seconds = 2
"""

QQ = """
[[providers]]
id = "qq"
type = "qq"
display_name = "QQ"
client_id = "tongxing"
client_secret = "tongxing-sandbox-secret"
api_base = "{base}/qq"
timeout_seconds = 2
"""

WEIBO = """
[[providers]]
id = "weibo"
type = "weibo"
display_name = "微博"
display_name_en = "Weibo"
client_id = "tongxing"
client_secret = "tongxing-sandbox-secret"
api_base = "{base}/weibo"
timeout_seconds = 2
"""


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
    toml: str
    username: str
    expected: dict[str, Any]
    backchannel: str = "token"        # the sandbox fault kind of the code/ticket redemption
    # The callback of a login the user refused at the portal (RFC 6749 §4.1.2.1), given the state
    # and the opaque data (RFC 9207: an OIDC portal names itself in error answers too).
    denied: Callable[[str, dict], dict] = field(
        default=lambda state, opaque: {"state": state, "error": "access_denied"})

    def tables(self, base: str) -> list[dict[str, Any]]:
        return tomllib.loads(self.toml.replace("{base}", base))["providers"]


_wx = _ACCOUNTS.get("wechat", "wx_zhang")
_qq = _ACCOUNTS.get("qq", "qq_zhang")
CASES = [
    Case("sd-portal", SD_PORTAL, "sd_zhang", _portal("sd-portal", "sd_zhang", "personal", "/sd-portal"),
         denied=lambda state, opaque: {"state": state, "error": "access_denied", "iss": opaque["issuer"]}),
    Case("bj-yzt", BJ_YZT, "yzt_a", _portal("bj-yzt", "yzt_a", "legal", "/bj-yzt",
                                            enterprise_name="北京示例科技有限公司", uscc="91110108MA01BJ2K6M")),
    Case("miit", MIIT, "91110114MA04CP5F95",
         {"subject": "91110114MA04CP5F95", "issuer": "/miit/cas", "login_name": "91110114MA04CP5F95",
          "account_kind": "legal", "cert_level": 3, "phone": "13800138014", "phone_verified": True,
          "display_name": "王精工", "enterprise_name": "北京示例精工股份有限公司", "uscc": "91110114MA04CP5F95"},
         backchannel="validate",
         # CAS has no error parameter: a login abandoned at the portal comes back without a ticket.
         denied=lambda state, opaque: {"state": state}),
    Case("wechat", WECHAT, "wx_zhang", _social("wechat", "wx_zhang", _wx.union_id, "/wechat")),
    Case("qq", QQ, "qq_zhang", _social("qq", "qq_zhang", _qq.union_id.upper(), "/qq")),
    Case("weibo", WEIBO, "wb_zhang", _social("weibo", "wb_zhang", str(uid_of(_ACCOUNTS.get("weibo", "wb_zhang"))),
                                             "/weibo")),
]
