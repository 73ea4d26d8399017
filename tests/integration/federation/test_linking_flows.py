"""First-login linking through the broker and the real sandbox portals (DOMAIN rules 10-12)."""
from __future__ import annotations

from sqlalchemy import select

from binding.db import transaction
from binding.models import Account, AuditEvent

from .conftest import account, identities, last_login, location, path_of, whoami


def test_sd_zhang_links_to_zhangsan_by_verified_phone_and_is_told(cast, browser, client, db):
    response = browser.login("sd-portal", "sd_zhang")
    assert path_of(response) == "/federation/linked"
    page = client.get("/federation/linked").get_data(as_text=True)
    assert "zhangsan" in page and "自动关联" in page
    assert whoami(client)["username"] == "zhangsan"
    [row] = identities(db, "zhangsan")
    assert (row.login_name, row.link_method, row.cert_level, row.account_kind) == ("sd_zhang", "phone", 3, "personal")
    login = last_login(db)
    assert (login.auth_methods, login.cert_level, login.account_kind, login.upstream_identity_id) == \
        ("fed", 3, "personal", row.id)
    # The account page lists the link (and no full phone number).
    html = client.get("/account").get_data(as_text=True)
    assert 'data-provider="sd-portal"' in html and "山东省统一身份认证" in html and "13800138001" not in html


def test_a_linked_identity_signs_straight_in_to_next(cast, browser, client):
    browser.login("sd-portal", "sd_zhang")
    browser.post("/logout")
    assert whoami(client) is None
    response = browser.login("sd-portal", "sd_zhang", next_url="/account?x=1")
    assert path_of(response) == "/account?x=1"
    assert whoami(client)["username"] == "zhangsan"


def test_auto_link_only_when_the_phone_is_verified_on_both_sides(cast, browser, client, db):
    with transaction(db) as s:
        s.scalar(select(Account).where(Account.username == "zhangsan")).phone_verified = False
    response = browser.login("sd-portal", "sd_zhang")
    assert path_of(response) == "/federation/conflict"
    page = client.get("/federation/conflict").get_data(as_text=True)
    assert 'data-reason="phone"' in page
    assert identities(db) == [] and whoami(client) is None


def test_lisi_username_conflict_then_proves_ownership(cast, browser, client, db):
    response = browser.login("sd-portal", "lisi")
    assert path_of(response) == "/federation/conflict"
    page = client.get("/federation/conflict").get_data(as_text=True)
    for way in ('id="way-upstream"', 'id="way-admin"', 'id="way-prove"'):
        assert way in page
    assert "修改登录名" in page and "管理员" in page and 'value="lisi"' in page
    assert identities(db) == [] and whoami(client) is None
    wrong = browser.post("/federation/conflict", {"username": "lisi", "password": "not-the-password"})
    assert wrong.status_code == 401 and 'data-code="invalid_credentials"' in wrong.get_data(as_text=True)
    assert identities(db) == []
    right = browser.post("/federation/conflict", {"username": "lisi", "password": "Ls@demo2026"})
    assert path_of(right) == "/account"
    assert whoami(client)["username"] == "lisi"
    [row] = identities(db, "lisi")
    assert row.link_method == "password" and row.login_name == "lisi" and row.phone == "13800138009"
    assert last_login(db).auth_methods == "fed pwd"
    # The pending identity is gone: the conflict page cannot be replayed.
    assert client.get("/federation/conflict").status_code == 400
    with db() as s:
        reasons = [e.detail.get("reason") for e in s.scalars(select(AuditEvent).where(
            AuditEvent.event == "federation.conflict"))]
    assert reasons == ["username"]


def test_sd_new_gets_a_new_account_after_completing_the_profile(cast, browser, client, db):
    response = browser.login("sd-portal", "sd_new", next_url="/account?welcome=1")
    assert path_of(response) == "/federation/profile"
    page = client.get("/federation/profile").get_data(as_text=True)
    assert 'value="sd_new"' in page and 'value="钱新"' in page
    bad = browser.post("/federation/profile", {"username": "1x", "display_name": "钱新"})
    assert bad.status_code == 400 and 'id="username-error"' in bad.get_data(as_text=True)
    assert account(db, "sd_new") is None
    done = browser.post("/federation/profile", {"username": "sd_new", "display_name": "钱新"})
    assert path_of(done) == "/account?welcome=1"
    created = account(db, "sd_new")
    assert (created.phone, created.phone_verified, created.password_hash, created.kind, created.display_name) == \
        ("13800138005", True, None, "personal", "钱新")
    assert whoami(client)["username"] == "sd_new"
    assert identities(db, "sd_new")[0].link_method == "created"


def test_a_login_name_that_cannot_be_a_username_is_asked_for(cast, browser, client, db):
    # miit legal-person accounts log in with their USCC, which may not be a username (rule 2).
    response = browser.login("miit", "91110114MA04CP5F95")
    assert path_of(response) == "/federation/profile"
    page = client.get("/federation/profile").get_data(as_text=True)
    assert 'id="username-needed"' in page and 'data-kind="legal"' in page
    done = browser.post("/federation/profile", {"username": "jinggong"})
    assert path_of(done) == "/account"
    assert account(db, "jinggong").kind == "enterprise"
    assert last_login(db).account_kind == "legal"


def test_one_personal_and_one_legal_identity_per_portal(cast, browser, client, db):
    from tests.integration.oidc.conftest import login

    login(client, "zhangsan")
    start = location(browser.post("/federation/link/sd-portal"))
    assert path_of(browser.callback("sd-portal", browser.portal(start, "sd_zhang"))) == "/account"
    assert "已关联门户账号" in client.get("/account").get_data(as_text=True)
    # A second personal account of the same portal is refused with a clear message.
    browser.portal_http.cookies.clear()
    start = location(browser.post("/federation/link/sd-portal"))
    refused = browser.callback("sd-portal", browser.portal(start, "sd_new"))
    assert refused.status_code == 409
    assert "个人账号只能关联一个" in refused.get_data(as_text=True)
    # ...but one legal-person account may join it (rule 12).
    browser.portal_http.cookies.clear()
    start = location(browser.post("/federation/link/sd-portal"))
    assert path_of(browser.callback("sd-portal", browser.portal(start, "sd_legal_b"))) == "/account"
    assert sorted(r.account_kind for r in identities(db, "zhangsan")) == ["legal", "personal"]
    assert whoami(client)["username"] == "zhangsan"


def test_an_identity_linked_elsewhere_cannot_be_linked_again(cast, browser, client, db):
    from tests.integration.oidc.conftest import login

    browser.login("sd-portal", "sd_zhang")              # auto-linked to zhangsan
    browser.post("/logout")
    login(client, "wangwu")
    start = location(browser.post("/federation/link/sd-portal"))
    refused = browser.callback("sd-portal", browser.portal(start, "sd_zhang"))
    assert refused.status_code == 409 and len(identities(db)) == 1


def test_unlink_except_the_last_way_in(cast, browser, client, db):
    browser.login("sd-portal", "sd_new")
    browser.post("/federation/profile", {"username": "sd_new"})
    [row] = identities(db, "sd_new")
    with transaction(db) as s:   # no password, and the phone no longer verified: fed is the only way in
        s.get(Account, row.account_id).phone_verified = False
    refused = browser.post(f"/federation/unlink/{row.id}")
    assert refused.status_code == 409 and "唯一的登录方式" in refused.get_data(as_text=True)
    assert len(identities(db, "sd_new")) == 1
    with transaction(db) as s:   # a verified phone is a way in (SMS code login, rule 2)
        s.get(Account, row.account_id).phone_verified = True
    assert path_of(browser.post(f"/federation/unlink/{row.id}")) == "/account"
    assert identities(db) == []
    assert "已解除关联" in client.get("/account").get_data(as_text=True)


def test_unlink_needs_a_sign_in_and_csrf(cast, browser, client, db):
    browser.login("sd-portal", "sd_zhang")
    [row] = identities(db)
    assert client.post(f"/federation/unlink/{row.id}").status_code == 400        # no CSRF token
    browser.post("/logout")
    assert path_of(browser.post(f"/federation/unlink/{row.id}")).startswith("/login")
    assert len(identities(db)) == 1


def test_disabled_account_is_refused_through_a_portal(cast, browser, client, db):
    browser.login("sd-portal", "sd_zhang")
    browser.post("/logout")
    with transaction(db) as s:
        s.scalar(select(Account).where(Account.username == "zhangsan")).status = "disabled"
    refused = browser.login("sd-portal", "sd_zhang")
    assert refused.status_code == 403 and 'data-code="account_disabled"' in refused.get_data(as_text=True)
    assert whoami(client) is None


def test_disabled_account_is_not_auto_linked(cast, browser, client, db):
    with transaction(db) as s:
        s.scalar(select(Account).where(Account.username == "zhangsan")).status = "disabled"
    assert browser.login("sd-portal", "sd_zhang").status_code == 403
    assert identities(db) == [] and whoami(client) is None


def test_login_page_lists_the_configured_portals(cast, client):
    html = client.get("/login?next=/account%3Fa%3D1").get_data(as_text=True)
    for pid, name in (("sd-portal", "山东省统一身份认证"), ("bj-yzt", "北京市法人一证通"), ("miit", "工业和信息化部政务服务"),
                      ("wechat", "微信")):
        assert f'id="portal-{pid}"' in html and name in html
    assert "/federation/start/sd-portal?next=%2Faccount%3Fa%3D1" in html
    english = client.get("/login?lang=en").get_data(as_text=True)
    assert "Shandong unified identity portal" in english and 'alt="WeChat logo"' in english
