"""The broker signs in through every demo portal with the demo's own provider tables
(``sandbox.portals.demo_config``, the one source the demo, contract and integration tests share)."""
from __future__ import annotations

from pathlib import Path

from sandbox.portals.demo_config import PORTAL_IDS, provider_tables

from .conftest import path_of

STATIC = Path(__file__).resolve().parents[3] / "broker" / "static"


def test_yzt_c_signs_in_through_bj_yzt_and_reaches_the_linking_step(cast, browser, client):
    # bj-yzt's token endpoint takes client_secret_post only: a table without it fails here.
    assert path_of(browser.login("bj-yzt", "yzt_c")) == "/federation/profile"
    page = client.get("/federation/profile").get_data(as_text=True)
    assert 'data-kind="legal"' in page and "北京朝阳示例服务有限公司" in page


def test_every_demo_portal_has_a_logo_shown_with_its_name(cast, client):
    tables = provider_tables("http://127.0.0.1:5001")
    assert sorted(t["id"] for t in tables) == sorted(PORTAL_IDS)
    html = client.get("/login").get_data(as_text=True)
    for table in tables:
        logo = table["logo"]
        assert (STATIC / logo.removeprefix("/static/")).is_file(), logo
        assert client.get(logo).status_code == 200
        assert f'src="{logo}" alt="{table["display_name"]}标志"' in html
    assert {t["id"]: t["display_name"] for t in tables if t["type"] in ("wechat", "qq", "weibo")} == \
        {"wechat": "微信", "qq": "QQ", "weibo": "微博"}
