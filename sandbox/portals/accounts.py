"""The sandbox upstream accounts: the DEMO.md "Sandbox upstream accounts" table plus the social
test users. Every password is ``Portal@2026``. Each ``create_sandbox`` app gets its own copy,
so the sd-portal "upgrade" button changes one app's state only."""
from __future__ import annotations

import hashlib
import hmac
import threading
import uuid
from dataclasses import dataclass, replace

PASSWORD = "Portal@2026"
PERSONAL, LEGAL = "personal", "legal"


@dataclass
class PortalAccount:
    portal: str
    username: str
    name: str
    kind: str = PERSONAL
    level: int = 1
    phone: str | None = None
    enterprise_name: str | None = None
    uscc: str | None = None
    password: str = PASSWORD

    @property
    def subject(self) -> str:
        """Stable across restarts, so links the broker stored survive a sandbox restart."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"tongxing-sandbox:{self.portal}:{self.username}"))

    def per_app_id(self, app_id: str, prefix: str = "o") -> str:
        """A WeChat/QQ-style openid: different for every app (client) of the same user."""
        return prefix + hashlib.sha256(f"{app_id}:{self.portal}:{self.username}".encode()).hexdigest()[:32]

    @property
    def union_id(self) -> str:
        """The same for every app of one portal (WeChat/QQ ``unionid``)."""
        return "u" + hashlib.sha256(f"union:{self.portal}:{self.username}".encode()).hexdigest()[:27]


ENT_A = ("北京示例科技有限公司", "91110108MA01BJ2K6M")
ENT_B = ("烟台示例新材料有限公司", "91370600MA3YT0C83M")
ENT_C = ("北京朝阳示例服务有限公司", "91110105MA02CY7D8P")
ENT_D = ("北京示例精工股份有限公司", "91110114MA04CP5F95")

SEED: tuple[PortalAccount, ...] = (
    PortalAccount("sd-portal", "sd_zhang", "张三", PERSONAL, 3, "13800138001"),
    PortalAccount("sd-portal", "sd_low", "赵小低", PERSONAL, 2, "13800138002"),
    PortalAccount("sd-portal", "lisi", "李四", PERSONAL, 3, "13800138009"),
    PortalAccount("sd-portal", "sd_legal_b", "孙烟台", LEGAL, 3, "13800138004", *ENT_B),
    PortalAccount("sd-portal", "sd_new", "钱新", PERSONAL, 3, "13800138005"),
    PortalAccount("bj-yzt", "yzt_a", "周经办", LEGAL, 3, "13800138007", *ENT_A),
    PortalAccount("bj-yzt", "yzt_c", "吴经办", LEGAL, 3, "13800138008", *ENT_C),
    PortalAccount("miit", "miit_person", "郑自然", PERSONAL, 3, "13800138013"),
    # Legal-person accounts at miit log in with their USCC (DEMO.md).
    PortalAccount("miit", ENT_D[1], "王精工", LEGAL, 3, "13800138014", *ENT_D),
    PortalAccount("wechat", "wx_zhang", "微信张三"),
    PortalAccount("qq", "qq_zhang", "QQ张三"),
    PortalAccount("weibo", "wb_zhang", "微博张三"),
)


class AccountStore:
    """One app's accounts, keyed by (portal, username). Level changes are guarded by a lock."""

    def __init__(self, seed=SEED):
        self._accounts = {(a.portal, a.username): replace(a) for a in seed}
        self._lock = threading.Lock()

    def get(self, portal: str, username: str) -> PortalAccount | None:
        return self._accounts.get((portal, username))

    def authenticate(self, portal: str, username: str, password: str) -> PortalAccount | None:
        account = self.get(portal, username.strip())
        # Compare even for unknown users so timing does not reveal which logins exist.
        expected = account.password if account else PASSWORD + "\0"
        ok = hmac.compare_digest(password.encode(), expected.encode())
        return account if ok and account else None

    def raise_level(self, portal: str, username: str) -> int:
        """The sd-portal "upgrade" button: one level up, at most 5 (DOMAIN certification levels)."""
        with self._lock:
            account = self._accounts[(portal, username)]
            account.level = min(5, account.level + 1)
            return account.level

    def of_portal(self, portal: str) -> list[PortalAccount]:
        return [a for (p, _), a in self._accounts.items() if p == portal]
