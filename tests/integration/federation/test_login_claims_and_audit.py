"""What downstream portals learn of a federated login, and the audit trail of refusals.

- The ``account_kind`` claim describes THIS login (issue 4, rule 9); ``enterprise`` is sent
  only for a local or legal-person login (rules 12, 23: a personal identity certifies no
  enterprise, even when linked to an enterprise's account).
- Refusals are audited: a replayed state, an issuer mix-up, a second identity of one kind
  (``federation.failed`` / ``federation.refused``) and client-policy refusals (``oidc.refused``).
"""
from __future__ import annotations

from sqlalchemy import select

from binding.models import AuditEvent

from .conftest import location, path_of

SCOPE = "openid profile enterprise"


def events(db, name) -> list[AuditEvent]:
    with db() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.event == name).order_by(AuditEvent.id)))


def _claims(rp_client, **overrides):
    tokens = rp_client.tokens(scope=SCOPE, **overrides)
    id_token = rp_client.verify(tokens["id_token"])
    userinfo = rp_client.userinfo(tokens["access_token"]).get_json()
    return id_token, userinfo


def test_lisi_through_a_personal_portal_identity_is_a_personal_login(cast, browser, client, rp):
    # lisi's sd-portal account is personal; local lisi is the enterprise account of unit A.
    assert path_of(browser.login("sd-portal", "lisi")) == "/federation/conflict"
    assert path_of(browser.post("/federation/conflict", {"username": "lisi", "password": "Ls@demo2026"})) == "/account"
    id_token, userinfo = _claims(rp("smebj"))
    assert id_token["account_kind"] == "personal" and userinfo["account_kind"] == "personal"
    assert "enterprise" not in id_token and "enterprise" not in userinfo
    # The refresh token's grant keeps the kind of the login it came from.
    smebj = rp("smebj")
    tokens = smebj.tokens(scope=SCOPE)
    refreshed = smebj.refresh(tokens["refresh_token"]).get_json()
    assert smebj.userinfo(refreshed["access_token"]).get_json()["account_kind"] == "personal"


def test_lisi_signing_in_locally_is_the_accounts_own_kind_with_its_enterprise(cast, client, rp):
    from tests.integration.oidc.conftest import login

    login(client, "lisi")
    id_token, userinfo = _claims(rp("smebj"))
    assert id_token["account_kind"] == "legal" and userinfo["account_kind"] == "legal"
    assert userinfo["enterprise"]["uscc"] == "91110108MA01BJ2K6M"


def test_a_replayed_state_and_a_mix_up_are_audited(cast, browser, sandbox, db):
    params = browser.portal(browser.start("sd-portal"), "sd_zhang")
    browser.callback("sd-portal", params)
    browser.post("/logout")
    assert browser.callback("sd-portal", params).status_code == 400          # replayed
    sandbox.fault("sd-portal", iss_param="http://127.0.0.1:1/evil-portal")
    assert browser.login("sd-portal", "sd_zhang").status_code == 400          # mix-up
    failed = [(e.detail["provider"], e.detail["code"], e.detail["reason"]) for e in events(db, "federation.failed")]
    assert failed == [("sd-portal", "state_invalid", "state_invalid"), ("sd-portal", "upstream_invalid", "iss")]


def test_a_second_identity_of_one_kind_is_refused_and_audited(cast, browser, client, db):
    from tests.integration.oidc.conftest import login

    login(client, "zhangsan")
    browser.callback("sd-portal", browser.portal(location(browser.post("/federation/link/sd-portal")), "sd_zhang"))
    browser.portal_http.cookies.clear()
    start = location(browser.post("/federation/link/sd-portal"))
    assert browser.callback("sd-portal", browser.portal(start, "sd_new")).status_code == 409
    [refused] = events(db, "federation.refused")
    assert (refused.detail["code"], refused.detail["provider"], refused.detail["account_kind"]) == \
        ("identity_kind_taken", "sd-portal", "personal")


def test_a_returning_identity_of_the_other_kind_is_refused_not_a_server_error(cast, browser, sandbox, client, db):
    from tests.integration.oidc.conftest import login

    login(client, "zhangsan")
    for name in ("sd_zhang", "sd_legal_b"):          # one personal and one legal identity (rule 12)
        browser.portal_http.cookies.clear()
        start = location(browser.post("/federation/link/sd-portal"))
        assert path_of(browser.callback("sd-portal", browser.portal(start, name))) == "/account"
    browser.post("/logout")
    sandbox.account("sd-portal", "sd_legal_b").kind = "personal"   # the portal now says personal
    browser.portal_http.cookies.clear()
    refused = browser.login("sd-portal", "sd_legal_b")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "个人账号只能关联一个" in html and "Traceback" not in html
    assert [e.detail["code"] for e in events(db, "federation.refused")] == ["identity_kind_taken"]


def test_client_policy_refusals_are_audited(cast, client, rp):
    from tests.integration.oidc.conftest import login

    login(client, "zhangsan")                              # local: level 2, personal
    assert rp("yt-cloud").authorize().status_code == 403   # needs level 3
    assert rp("gjj-fund").authorize().status_code == 403   # needs a legal-person account
    refusals = {e.detail["client_id"]: e.detail["shortfalls"] for e in events(client.application.extensions[
        "tongxing"].sessions, "oidc.refused")}
    assert refusals["yt-cloud"] == ["cert_level"]
    assert "account_kind" in refusals["gjj-fund"]
