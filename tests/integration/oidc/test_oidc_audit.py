"""The OIDC side's audit rows (house rule: state changes are audited), written through
``binding.audit.Audit`` like every other: who, what, when, and the detail a dispute needs."""
from __future__ import annotations

import html as htmllib

from sqlalchemy import select

from binding.db import transaction
from binding.models import AuditEvent
from binding.oauth.clients import ClientDirectory

from .conftest import PORTAL, account, add_client, login, query_of
from .test_policies import _hidden_fields


def _events(db, *names):
    with db() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.event.in_(names)).order_by(AuditEvent.id))
        return [(r.event, r.account_id, r.actor, r.detail, r.at) for r in rows]


def test_a_code_a_replay_and_its_revocation_are_audited(rp, client, cast, db, clock):
    login(client, "zhangsan")
    zhangsan = account(db, "zhangsan").id
    smebj = rp("smebj")
    code = smebj.code()
    assert _events(db, "oidc.authorized") == [
        ("oidc.authorized", zhangsan, None, {"client_id": "smebj", "scope": "openid profile phone"}, clock())]
    assert smebj.exchange(code).status_code == 200
    clock.advance(5)
    assert smebj.exchange(code).status_code == 400                # the replay
    replayed, revoked = _events(db, "oidc.code_replayed", "oidc.grant_revoked")
    assert replayed == ("oidc.code_replayed", zhangsan, None, {"client_id": "smebj"}, clock())
    assert revoked[:3] == ("oidc.grant_revoked", zhangsan, None)
    assert revoked[3]["client_id"] == "smebj" and revoked[3]["reason"] == "code_replay" and revoked[3]["grant_id"]


def test_a_reused_refresh_token_and_the_grant_it_revokes_are_audited(rp, client, cast, db, clock):
    login(client, "zhangsan")
    smebj = rp("smebj")
    first = smebj.tokens()
    assert smebj.refresh(first["refresh_token"]).status_code == 200
    assert smebj.refresh(first["refresh_token"]).status_code == 400   # used twice: stolen?
    reused, revoked = _events(db, "oidc.refresh_reused", "oidc.grant_revoked")
    zhangsan = account(db, "zhangsan").id
    assert reused[:3] == ("oidc.refresh_reused", zhangsan, None) and reused[3]["client_id"] == "smebj"
    assert revoked[3] == {"client_id": "smebj", "grant_id": reused[3]["grant_id"], "reason": "refresh_reuse"}


def test_consent_and_a_client_added_then_removed_are_audited(rp, client, cast, db, clock):
    secret = add_client(db, clock, client_id="third", secret="third-secret-0123456789abcdef0123",
                        redirect_uris=(f"{PORTAL}/third/callback",), scopes=("openid", "profile", "phone"))
    login(client, "zhangsan")
    third = rp("third", secret=secret)
    page = third.authorize()
    assert page.status_code == 200, page.headers.get("Location")   # the consent page
    fields = {k: htmllib.unescape(v) for k, v in _hidden_fields(page.get_data(as_text=True)).items()}
    allowed = client.post("/authorize", data={**fields, "decision": "allow"})
    assert third.exchange(query_of(allowed.headers["Location"])["code"]).status_code == 200   # a grant
    with transaction(db) as session:
        ClientDirectory(session, clock).remove("third", actor="support")
    events = [e for e in _events(db, "oidc.client_added", "oidc.consent_granted", "oidc.client_removed")
              if e[3]["client_id"] == "third"]                      # the cast's own clients were added too
    zhangsan = account(db, "zhangsan").id
    assert [e[:4] for e in events] == [
        ("oidc.client_added", None, "cli", {"client_id": "third", "source": "test"}),
        ("oidc.consent_granted", zhangsan, None, {"client_id": "third", "scope": "openid profile phone"}),
        ("oidc.client_removed", None, "support", {"client_id": "third", "grants_revoked": 1}),
    ]
