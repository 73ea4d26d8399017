"""How a broker is registered at the sandbox, and the provider tables (ISSUE4.md "Provider
config") that point a broker at it. The ONE source of these tables: the demo runner, the
contract suite, the integration and browser tests all take them from ``provider_tables``, so
a table the sandbox would refuse (e.g. bj-yzt's client_secret_post) fails every test at once.
The values are demo-only."""
from __future__ import annotations

CLIENT_ID = "tongxing"
CLIENT_SECRET = "tongxing-sandbox-secret"
PORTAL_IDS = ("sd-portal", "bj-yzt", "miit", "wechat", "qq", "weibo")


def demo_clients(broker_url: str, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET) -> list[dict]:
    """The ``clients`` argument of ``create_sandbox``: the broker, with its callback
    ``<broker>/federation/callback/<provider id>`` for every portal."""
    broker_url = broker_url.rstrip("/")
    return [{"client_id": client_id, "client_secret": client_secret,
             "redirect_uris": [f"{broker_url}/federation/callback/{p}" for p in PORTAL_IDS]}]


def logo(provider_id: str) -> str:
    """The portal's logo shipped with the broker (``broker/static/providers/<id>.svg``)."""
    return f"/static/providers/{provider_id}.svg"


def provider_tables(sandbox_url: str, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET,
                    timeout_seconds: float = 5) -> list[dict]:
    """``settings.extra["providers"]`` for a broker using the sandbox at ``sandbox_url``."""
    s = sandbox_url.rstrip("/")
    creds = {"client_id": client_id, "client_secret": client_secret, "timeout_seconds": timeout_seconds}
    return [
        {"id": "sd-portal", "type": "oidc", "display_name": "山东省统一身份认证平台",
         "display_name_en": "Shandong unified identity portal", "logo": logo("sd-portal"), "issuer": f"{s}/sd-portal",
         "scopes": ["openid", "profile", "phone"], "upgrade_url": f"{s}/sd-portal/account/upgrade", **creds,
         "claims": {"subject": "sub", "login_name": "preferred_username", "phone": "phone_number",
                    "phone_verified": "phone_number_verified", "name": "name", "enterprise_name": "org_name",
                    "uscc": "uscc", "account_kind": {"claim": "user_type", "map": {"natural": "personal", "legal": "legal"}},
                    "cert_level": {"claim": "auth_level"}}},
        # bj-yzt's token endpoint takes client_secret_post only (sandbox/portals/bj_yzt.py).
        {"id": "bj-yzt", "type": "oauth2", "display_name": "北京市法人一证通统一身份认证",
         "display_name_en": "Beijing YZT (legal-person identity)", "logo": logo("bj-yzt"), "issuer": f"{s}/bj-yzt",
         "authorize_url": f"{s}/bj-yzt/oauth/authorize", "token_url": f"{s}/bj-yzt/oauth/token",
         "userinfo_url": f"{s}/bj-yzt/api/userinfo", "scopes": ["user"], "token_auth_method": "client_secret_post",
         **creds,
         "claims": {"subject": "data.userId", "login_name": "data.loginName", "phone": "data.mobile",
                    "phone_verified": "data.mobileVerified", "name": "data.realName",
                    "enterprise_name": "data.entName", "uscc": "data.creditCode",
                    "account_kind": {"claim": "data.userType", "map": {"PERSON": "personal", "LEGAL": "legal"}},
                    "cert_level": {"claim": "data.certLevel"}}},
        {"id": "miit", "type": "cas", "display_name": "工业和信息化部政务服务统一认证",
         "display_name_en": "MIIT government services (CAS)", "logo": logo("miit"), "cas_url": f"{s}/miit/cas",
         "cas_version": "3.0", "timeout_seconds": timeout_seconds,
         "claims": {"subject": "user", "login_name": "user", "phone": "mobile", "phone_verified_default": True,
                    "name": "name", "enterprise_name": "entName", "uscc": "creditCode",
                    "account_kind": {"claim": "userType", "map": {"natural": "personal", "legal": "legal"}},
                    "cert_level": {"claim": "certLevel"}}},
        {"id": "wechat", "type": "wechat", "display_name": "微信", "display_name_en": "WeChat", "logo": logo("wechat"),
         "api_base": f"{s}/wechat", "open_base": f"{s}/wechat", **creds},
        {"id": "qq", "type": "qq", "display_name": "QQ", "display_name_en": "QQ", "logo": logo("qq"),
         "api_base": f"{s}/qq", "open_base": f"{s}/qq", **creds},
        {"id": "weibo", "type": "weibo", "display_name": "微博", "display_name_en": "Weibo", "logo": logo("weibo"),
         "api_base": f"{s}/weibo", "open_base": f"{s}/weibo", **creds},
    ]
