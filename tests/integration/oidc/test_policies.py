"""Client policies (DOMAIN rules 8, 9, 24): the user sees why and what to do; the client gets
access_denied / unmet_authentication_requirements (with iss and state) if the user gives up."""
from __future__ import annotations

import re

from sqlalchemy import delete, select

from binding.db import transaction
from binding.models import Account, AccountKind, Enterprise, EnterpriseBinding, Membership, MembershipRole

from .conftest import ISSUER, PORTAL, add_client, login, query_of


def _hidden_fields(html: str) -> dict:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def _give_up(client, page_html):
    import html as htmllib

    fields = {k: htmllib.unescape(v) for k, v in _hidden_fields(page_html).items()}
    return client.post("/authorize/decline", data=fields)


def test_level_two_login_is_refused_by_yt_cloud_with_upgrade_guidance(rp, client):
    login(client, "zhangsan")
    yt = rp("yt-cloud")
    page = yt.authorize()
    assert page.status_code == 403 and "Location" not in page.headers
    html = page.get_data(as_text=True)
    assert 'data-code="cert_level"' in html
    assert "不低于 3 级" in html and "2 级" in html and "上游门户" in html
    state = yt.last_params["state"]
    english = client.get(yt.authorize().request.full_path + "&lang=en").get_data(as_text=True)
    assert "Upgrade your certification level at the upstream portal" in english
    gave_up = _give_up(client, html)
    assert gave_up.status_code == 303
    q = query_of(gave_up.headers["Location"])
    assert gave_up.headers["Location"].startswith(yt.redirect_uri + "?")
    assert q == {"error": "unmet_authentication_requirements", "state": state, "iss": ISSUER}


def test_prompt_none_with_a_shortfall_returns_the_error_at_once(rp, client):
    login(client, "zhangsan")
    q = query_of(rp("yt-cloud").authorize(prompt="none").headers["Location"])
    assert q["error"] == "unmet_authentication_requirements" and q["iss"] == ISSUER


def test_acr_values_raise_the_level_asked_for(rp, client):
    login(client, "zhangsan")
    smebj = rp("smebj")
    page = smebj.authorize(acr_values="urn:tongxing:cert:3")
    assert page.status_code == 403 and 'data-code="cert_level"' in page.get_data(as_text=True)
    assert smebj.code(acr_values="urn:tongxing:cert:2")


def test_personal_account_refused_where_a_legal_person_is_required(rp, client):
    login(client, "zhangsan")
    gjj = rp("gjj-fund")
    page = gjj.authorize()
    html = page.get_data(as_text=True)
    assert page.status_code == 403
    assert 'data-code="account_kind"' in html and "法人账号" in html
    assert 'data-code="enterprise_required"' in html
    q = query_of(_give_up(client, html).headers["Location"])
    assert q["error"] == "access_denied" and q["iss"] == ISSUER and q["state"] == gjj.last_params["state"]


def test_lisi_enters_gjj_fund_and_the_financing_zone(rp, client):
    login(client, "lisi")
    assert rp("gjj-fund").code()
    assert rp("sme-finance").code()          # enterprise A: 创新型中小企业, valid until 2027-12-31


def _set_categories(db, uscc, categories):
    with transaction(db) as s:
        s.scalar(select(Enterprise).where(Enterprise.uscc == uscc)).categories = categories


def test_financing_zone_not_open_to_an_enterprise_without_the_categories(rp, client, db):
    _set_categories(db, "91110108MA01BJ2K6M", [])
    login(client, "lisi")
    page = rp("sme-finance").authorize()
    html = page.get_data(as_text=True)
    assert page.status_code == 403 and 'data-code="enterprise_category"' in html
    assert "该专区暂未向贵企业开放" in html and "科技型中小企业" in html
    assert query_of(_give_up(client, html).headers["Location"])["error"] == "access_denied"


def test_an_expired_category_does_not_count(rp, client, db):
    _set_categories(db, "91110108MA01BJ2K6M", [{"name": "创新型中小企业", "valid_until": "2026-01-31"}])
    login(client, "lisi")
    assert 'data-code="enterprise_category"' in rp("sme-finance").authorize().get_data(as_text=True)


def test_the_policy_is_checked_on_every_authorization(rp, client, db):
    login(client, "lisi")
    gjj = rp("gjj-fund")
    assert gjj.code()
    with transaction(db) as s:        # lisi's enterprise is unbound since the first login
        lisi = s.scalar(select(Account).where(Account.username == "lisi"))
        s.execute(delete(Membership).where(Membership.account_id == lisi.id))
        s.execute(delete(EnterpriseBinding).where(EnterpriseBinding.account_id == lisi.id))
    page = gjj.authorize()
    assert page.status_code == 403 and 'data-code="enterprise_required"' in page.get_data(as_text=True)


def test_a_sub_account_of_a_certified_unit_gets_its_role(rp, client, db, clock):
    with transaction(db) as s:
        wangwu = s.scalar(select(Account).where(Account.username == "wangwu"))
        s.scalar(select(Membership).where(Membership.account_id == wangwu.id)).status = "active"
        wangwu.kind = AccountKind.ENTERPRISE
    login(client, "wangwu")
    gjj = rp("gjj-fund")
    info = gjj.userinfo(gjj.tokens(scope="openid enterprise")["access_token"]).get_json()
    assert info["enterprise"]["role"] == MembershipRole.SUB_ACCOUNT
    assert info["enterprise"]["uscc"] == "91110108MA01BJ2K6M"


# --- consent ----------------------------------------------------------------------------------
def _third_party(db, clock):
    return add_client(db, clock, client_id="third", secret="third-secret-0123456789abcdef0123",
                      redirect_uris=(f"{PORTAL}/third/callback",), scopes=("openid", "profile", "phone"))


def test_third_party_client_asks_for_consent_once(rp, client, db, clock):
    third = rp("third", secret=_third_party(db, clock))
    login(client, "zhangsan")
    page = third.authorize()
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="consent-allow"' in html and 'data-scope="phone"' in html
    no_csrf = client.post("/authorize", data={**_hidden_fields(html), "csrf_token": "forged", "decision": "allow"})
    assert no_csrf.status_code == 400 and "Location" not in no_csrf.headers
    import html as htmllib
    fields = {k: htmllib.unescape(v) for k, v in _hidden_fields(html).items()}
    allowed = client.post("/authorize", data={**fields, "decision": "allow"})
    assert allowed.status_code == 303 and query_of(allowed.headers["Location"])["code"]
    assert third.code()                                       # remembered: no page this time
    assert third.authorize(prompt="consent").status_code == 200   # asked again on request


def test_consent_denied_returns_access_denied(rp, client, db, clock):
    third = rp("third", secret=_third_party(db, clock))
    login(client, "zhangsan")
    import html as htmllib
    fields = {k: htmllib.unescape(v) for k, v in _hidden_fields(third.authorize().get_data(as_text=True)).items()}
    denied = client.post("/authorize", data={**fields, "decision": "deny"})
    q = query_of(denied.headers["Location"])
    assert denied.status_code == 303 and q["error"] == "access_denied" and q["iss"] == ISSUER


def test_prompt_none_without_consent_is_consent_required(rp, client, db, clock):
    third = rp("third", secret=_third_party(db, clock))
    login(client, "zhangsan")
    q = query_of(third.authorize(prompt="none").headers["Location"])
    assert q["error"] == "consent_required" and q["iss"] == ISSUER
