"""Client policies judge the level and kind of THIS federated login (DOMAIN rules 8, 9): the level
is read from the upstream at every login, so a level that dropped is caught at the next one."""
from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from .conftest import last_login, location, path_of, whoami


def next_of_login_redirect(response) -> str:
    """The authorization request the broker asks to resume after login (/login?next=...)."""
    target = location(response)
    assert urlsplit(target).path == "/login", target
    return parse_qs(urlsplit(target).query)["next"][0]


def fed_login_for(browser, rp_client, provider_id, username):
    """Start at the downstream client, sign in at the portal, land back on /authorize."""
    resume = next_of_login_redirect(rp_client.authorize())
    return browser.login(provider_id, username, next_url=resume), resume


def test_level_checked_again_at_a_second_login_after_it_dropped(cast, browser, sandbox, rp, client, db):
    yt = rp("yt-cloud")
    first, resume = fed_login_for(browser, yt, "sd-portal", "sd_zhang")
    assert path_of(first) == "/federation/linked"          # auto-linked, then resumes
    assert rp("yt-cloud").code()                            # level 3: yt-cloud lets sd_zhang in
    browser.post("/logout")

    sandbox.account("sd-portal", "sd_zhang").level = 2      # the portal now certifies level 2 only
    yt = rp("yt-cloud")
    second, resume = fed_login_for(browser, yt, "sd-portal", "sd_zhang")
    assert path_of(second) == resume                        # linked long ago: straight in...
    assert (last_login(db).cert_level, last_login(db).account_kind) == (2, "personal")
    page = client.get(resume)
    html = page.get_data(as_text=True)
    assert page.status_code == 403 and 'data-code="cert_level"' in html   # ...but refused by the policy
    assert 'id="upgrade-required" data-needed="3"' in html
    retry = unescape(re.search(r'id="upgrade-retry" href="([^"]+)"', html).group(1))
    assert retry.startswith("/federation/start/sd-portal?next=")
    # The portal's upgrade page, told where to send the user back (the sandbox's return_to).
    upgrade = unescape(re.search(r'id="upgrade-link" href="([^"]+)"', html).group(1))
    assert upgrade.startswith(f"{sandbox.base}/sd-portal/account/upgrade?return_to=")
    assert parse_qs(urlsplit(upgrade).query)["return_to"] == ["http://127.0.0.1:5000" + retry]

    # The user upgrades at the portal and presses "I upgraded, try again".
    sandbox.account("sd-portal", "sd_zhang").level = 3
    restarted = client.get(retry)
    params = browser.portal(location(restarted), "sd_zhang")          # still signed in at the portal
    back = browser.callback("sd-portal", params)
    assert path_of(back) == resume and last_login(db).cert_level == 3
    code = client.get(resume)
    assert code.status_code in (302, 303) and "code=" in code.headers["Location"]


def test_a_local_login_of_the_same_account_has_no_upgrade_link(cast, rp, client):
    from tests.integration.oidc.conftest import login

    login(client, "zhangsan")                     # password login: level 2, no portal to send to
    html = rp("yt-cloud").authorize().get_data(as_text=True)
    assert 'data-code="cert_level"' in html and 'id="upgrade-required"' not in html


def test_miit_natural_person_refused_where_a_legal_person_is_required(cast, browser, rp, client):
    gjj = rp("gjj-fund")
    first, resume = fed_login_for(browser, gjj, "miit", "miit_person")
    assert path_of(first) == "/federation/profile"
    done = browser.post("/federation/profile", {"username": "miit_person"})
    assert path_of(done) == resume
    page = client.get(resume)
    html = page.get_data(as_text=True)
    assert page.status_code == 403 and 'data-code="account_kind"' in html
    assert "仅向法人账号开放" in html and "注册新的法人账号" in html


def test_the_kind_of_this_login_is_judged_not_the_accounts(cast, browser, rp, client, db):
    """zhangsan (a personal account) with a linked legal-person identity: signing in through it is
    a legal-person login (rule 12 + rule 9)."""
    from tests.integration.oidc.conftest import login

    login(client, "zhangsan")
    assert 'data-code="account_kind"' in rp("gjj-fund").authorize().get_data(as_text=True)
    start = location(browser.post("/federation/link/sd-portal"))
    browser.callback("sd-portal", browser.portal(start, "sd_legal_b"))
    browser.post("/logout")
    browser.portal_http.cookies.clear()
    second, resume = fed_login_for(browser, rp("gjj-fund"), "sd-portal", "sd_legal_b")
    assert path_of(second) == resume and whoami(client)["username"] == "zhangsan"
    assert last_login(db).account_kind == "legal"
    html = client.get(resume).get_data(as_text=True)
    assert 'data-code="account_kind"' not in html and 'data-code="enterprise_required"' in html
