"""The downstream clients of shared/DEMO.md "Downstream clients", seeded by ``broker demo``.

Redirect URIs point at the demo downstream portal, which runs on the broker's port + 2
(http://127.0.0.1:5002 for the default issuer http://127.0.0.1:5000).
"""
from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from config import Clock, Settings, system_clock

from .clients import ClientDirectory
from .config import ClientSpec
from .policy import ClientPolicy

SME_FINANCE_CATEGORIES = ("科技型中小企业", "创新型中小企业", "专精特新中小企业", '专精特新"小巨人"')
PORTAL_SCOPES = ("openid", "profile", "phone", "enterprise", "declarations.read")

DEMO_CLIENTS = {
    "gjj-fund": ("高新技术企业资金申报 / high-tech fund application",
                 ClientPolicy(account_kind="legal", requires_certified_enterprise=True, first_party=True)),
    "yt-cloud": ("市科技云平台 / city science cloud platform", ClientPolicy(min_cert_level=3, first_party=True)),
    "sme-finance": ("中小企业融资专区 / SME financing zone",
                    ClientPolicy(account_kind="legal", enterprise_categories=SME_FINANCE_CATEGORIES,
                                 first_party=True)),
    "smebj": ("中小企业公共服务平台 / SME public service platform", ClientPolicy(first_party=True)),
}


def demo_secret(client_id: str) -> str:
    """The demo secret of a DEMO.md client (the demo portal signs in with it; production refuses
    secrets containing "demo")."""
    return f"{client_id}-demo-secret"


def demo_portal_url(issuer: str) -> str:
    """The demo downstream portal: same host as the broker, port + 2 (DEMO.md)."""
    parts = urlsplit(issuer)
    port = (parts.port or (443 if parts.scheme == "https" else 80)) + 2
    return f"{parts.scheme}://{parts.hostname}:{port}"


def demo_client_specs(portal_url: str) -> list[ClientSpec]:
    portal_url = portal_url.rstrip("/")
    specs = []
    for client_id, (name, policy) in DEMO_CLIENTS.items():
        base = f"{portal_url}/{client_id}"
        specs.append(ClientSpec(
            client_id=client_id, name=name, secret=demo_secret(client_id),
            redirect_uris=(f"{base}/callback",), post_logout_redirect_uris=(f"{base}/",),
            backchannel_logout_uri=f"{base}/backchannel-logout",
            grant_types=("authorization_code", "refresh_token", "client_credentials"),
            scopes=PORTAL_SCOPES, policy=policy,
        ))
    specs.append(ClientSpec(
        client_id="mobile-app", name="企业服务移动端 / enterprise-service mobile app", public=True,
        redirect_uris=("tongxing-app://callback", "http://127.0.0.1/callback"),
        grant_types=("authorization_code", "refresh_token"), scopes=("openid", "profile", "phone", "enterprise"),
        policy=ClientPolicy(first_party=True),
    ))
    return specs


def seed_demo_clients(db: Session, settings: Settings, clock: Clock | None = None,
                      portal_url: str | None = None) -> list[str]:
    """Add the DEMO.md clients that are missing (inside the caller's transaction)."""
    directory = ClientDirectory(db, clock or system_clock)
    added = []
    for spec in demo_client_specs(portal_url or demo_portal_url(settings.issuer)):
        if directory.get(spec.client_id) is None:
            directory.add(spec, source="demo", actor="broker demo")
            added.append(spec.client_id)
    return added


__all__ = ["DEMO_CLIENTS", "demo_client_specs", "demo_secret", "demo_portal_url", "seed_demo_clients"]
