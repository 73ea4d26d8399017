"""Linking rules on the real database (issue 4, DOMAIN rules 10-12)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from binding.audit import Audit
from binding.db import transaction
from binding.errors import AccountDisabled, Conflict, NotFound, ValidationFailed
from binding.linking import (
    AUTO_LINKED, CONFLICT, NEW_ACCOUNT, SIGNED_IN, LinkingService, UpstreamFacts,
)
from binding.models import Account, AuditEvent
from binding.upstream_models import UpstreamIdentity
from tests.support.factories import make_account

ISS = "http://127.0.0.1:5001/sd-portal"


def facts(subject="sub-1", **overrides) -> UpstreamFacts:
    values = dict(provider_id="sd-portal", issuer=ISS, subject=subject, account_kind="personal", cert_level=3,
                  login_name="sd_someone", phone="13700000001", phone_verified=True, display_name="某人")
    values.update(overrides)
    return UpstreamFacts(**values)


@pytest.fixture
def linking(db, clock):
    """run(fn) -> fn(session, service) inside one committed transaction."""
    def run(fn):
        with transaction(db) as session:
            return fn(session, LinkingService(session, clock, Audit(session, clock)))
    return run


def events(db, name):
    with db() as session:
        return session.scalars(select(AuditEvent).where(AuditEvent.event == name)).all()


def identities(db):
    with db() as session:
        return session.scalars(select(UpstreamIdentity)).all()


def test_same_verified_phone_links_automatically_and_is_audited(db, linking):
    linking(lambda s, _: make_account(s, username="zhangsan", phone="13800138001"))
    outcome = linking(lambda s, svc: svc.resolve(facts(login_name="sd_zhang", phone="13800138001")))
    assert outcome.kind == AUTO_LINKED and outcome.account.username == "zhangsan"
    [row] = identities(db)
    assert (row.provider_id, row.issuer, row.subject, row.link_method) == ("sd-portal", ISS, "sub-1", "phone")
    assert row.cert_level == 3 and row.account_kind == "personal" and row.last_login_at is not None
    assert [e.detail["method"] for e in events(db, "federation.linked")] == ["phone"]


def test_already_linked_signs_in_even_after_the_phone_changed(db, linking):
    linking(lambda s, _: make_account(s, username="zhangsan", phone="13800138001"))
    linking(lambda s, svc: svc.resolve(facts(phone="13800138001")))
    # Keyed by (provider, issuer, subject): a new phone upstream does not matter.
    outcome = linking(lambda s, svc: svc.resolve(facts(phone="13999999999", cert_level=2)))
    assert outcome.kind == SIGNED_IN and outcome.account.username == "zhangsan"
    [row] = identities(db)
    assert row.cert_level == 2 and row.phone == "13999999999"   # refreshed at every login


@pytest.mark.parametrize("local_verified, upstream_verified", [(False, True), (True, False)])
def test_phone_not_verified_on_both_sides_never_links(db, linking, local_verified, upstream_verified):
    linking(lambda s, _: make_account(s, username="zhangsan", phone="13800138001", phone_verified=local_verified))
    outcome = linking(lambda s, svc: svc.resolve(facts(phone="13800138001", phone_verified=upstream_verified)))
    assert outcome.kind == CONFLICT and outcome.reason == "phone"
    assert identities(db) == []


def test_same_username_with_another_phone_is_a_conflict(db, linking):
    linking(lambda s, _: make_account(s, username="lisi", phone="13800138003"))
    outcome = linking(lambda s, svc: svc.resolve(facts(login_name="LiSi", phone="13800138009")))
    assert outcome.kind == CONFLICT and outcome.reason == "username" and outcome.account.username == "lisi"
    assert identities(db) == []
    assert [e.detail["reason"] for e in events(db, "federation.conflict")] == ["username"]


def test_conflict_settled_by_proving_ownership_links_with_password_method(db, linking):
    local = linking(lambda s, _: make_account(s, username="lisi", phone="13800138003"))
    f = facts(login_name="lisi", phone="13800138009")
    linking(lambda s, svc: svc.link_with_password(s.get(Account, local.id), f))
    assert linking(lambda s, svc: svc.resolve(f)).account.username == "lisi"
    assert identities(db)[0].link_method == "password"


def test_nothing_found_suggests_the_login_name_and_creates_an_account(db, linking):
    outcome = linking(lambda s, svc: svc.resolve(facts(login_name="sd_new", phone="13800138005")))
    assert outcome.kind == NEW_ACCOUNT and outcome.suggested_username == "sd_new"
    assert identities(db) == []
    account, _ = linking(lambda s, svc: svc.create_account(facts(login_name="sd_new", phone="13800138005"),
                                                           username="sd_new", display_name="新用户"))
    with db() as s:
        row = s.get(Account, account.id)
        assert (row.username, row.phone, row.phone_verified, row.password_hash, row.kind) == \
            ("sd_new", "13800138005", True, None, "personal")
    assert identities(db)[0].link_method == "created"
    assert events(db, "account.registered")[0].detail["via"] == "sd-portal"


def test_a_taken_or_invalid_login_name_is_not_suggested(linking):
    linking(lambda s, _: make_account(s, username="taken_name", phone="13600000000"))
    assert linking(lambda s, svc: svc.free_username("91110114MA04CP5F95")) is None   # a USCC
    assert linking(lambda s, svc: svc.free_username("1")) is None
    # resolve() would call this a username conflict; the helper alone refuses taken names too
    assert linking(lambda s, svc: svc.free_username("taken_name")) is None


def test_create_account_names_each_bad_field(db, linking):
    linking(lambda s, _: make_account(s, username="taken", email="a@example.com"))
    with pytest.raises(ValidationFailed) as caught:
        linking(lambda s, svc: svc.create_account(facts(), username="Taken", email="A@example.com"))
    assert set(caught.value.errors) == {"username", "email"}
    assert identities(db) == [] and len(events(db, "account.registered")) == 0


def test_legal_person_identity_creates_an_enterprise_account(linking):
    account, row = linking(lambda s, svc: svc.create_account(
        facts(account_kind="legal", login_name="sd_legal_b", enterprise_name="烟台示例新材料有限公司",
              uscc="91370600MA3YT0C83M"), username="sd_legal_b"))
    assert account.kind == "enterprise" and row.uscc == "91370600MA3YT0C83M"


def test_one_personal_and_one_legal_identity_per_provider(db, linking):
    local = linking(lambda s, _: make_account(s, username="zhangsan"))
    linking(lambda s, svc: svc.link(s.get(Account, local.id), facts("p1"), "session"))
    linking(lambda s, svc: svc.link(s.get(Account, local.id), facts("l1", account_kind="legal"), "session"))
    with pytest.raises(Conflict) as caught:
        linking(lambda s, svc: svc.link(s.get(Account, local.id), facts("p2"), "session", "山东省统一身份认证"))
    assert caught.value.code == "identity_kind_taken" and "个人" in caught.value.zh
    # another provider is fine
    linking(lambda s, svc: svc.link(s.get(Account, local.id), facts("p3", provider_id="miit"), "session"))
    assert sorted((r.provider_id, r.account_kind) for r in identities(db)) == \
        [("miit", "personal"), ("sd-portal", "legal"), ("sd-portal", "personal")]


def test_second_personal_identity_with_the_same_phone_is_refused_not_linked(db, linking):
    linking(lambda s, _: make_account(s, username="zhangsan", phone="13800138001"))
    linking(lambda s, svc: svc.resolve(facts("p1", phone="13800138001")))
    with pytest.raises(Conflict):
        linking(lambda s, svc: svc.resolve(facts("p2", phone="13800138001")))
    assert len(identities(db)) == 1


def test_an_identity_linked_to_one_account_cannot_be_linked_to_another(linking):
    a = linking(lambda s, _: make_account(s))
    b = linking(lambda s, _: make_account(s))
    linking(lambda s, svc: svc.link(s.get(Account, a.id), facts(), "session"))
    with pytest.raises(Conflict) as caught:
        linking(lambda s, svc: svc.link(s.get(Account, b.id), facts(), "session"))
    assert caught.value.code == "identity_linked_elsewhere"


def test_disabled_account_is_refused_and_nothing_changes(db, linking):
    linking(lambda s, _: make_account(s, username="zhangsan", phone="13800138001", status="disabled"))
    with pytest.raises(AccountDisabled):
        linking(lambda s, svc: svc.resolve(facts(phone="13800138001")))
    assert identities(db) == []


def test_unlink_keeps_the_last_way_in(db, linking):
    # A federated-only account: no password, no verified phone or email.
    account = linking(lambda s, _: make_account(s, password=None, phone=None, phone_verified=False))
    first = linking(lambda s, svc: svc.link(s.get(Account, account.id), facts("p1"), "session"))
    with pytest.raises(Conflict) as caught:
        linking(lambda s, svc: svc.unlink(s.get(Account, account.id), first.id))
    assert caught.value.code == "last_sign_in_method"
    second = linking(lambda s, svc: svc.link(s.get(Account, account.id), facts("l1", account_kind="legal"), "session"))
    linking(lambda s, svc: svc.unlink(s.get(Account, account.id), first.id))
    with pytest.raises(Conflict):
        linking(lambda s, svc: svc.unlink(s.get(Account, account.id), second.id))
    assert [r.id for r in identities(db)] == [second.id]
    assert len(events(db, "federation.unlinked")) == 1


def test_unlink_with_a_password_and_of_a_foreign_identity(db, linking):
    account = linking(lambda s, _: make_account(s))
    other = linking(lambda s, _: make_account(s))
    row = linking(lambda s, svc: svc.link(s.get(Account, other.id), facts(), "session"))
    with pytest.raises(NotFound):
        linking(lambda s, svc: svc.unlink(s.get(Account, account.id), row.id))
    linking(lambda s, svc: svc.unlink(s.get(Account, other.id), row.id))   # has a password
    assert identities(db) == []


def test_facts_from_an_identity_like_object():
    from providers.base import Identity

    f = UpstreamFacts.from_identity(Identity(provider_id="miit", issuer="x", subject="s", account_kind="legal",
                                             cert_level=3))
    assert f.account_kind == "legal" and f.cert_level == 3
    assert UpstreamFacts.from_dict(f.as_dict()) == f


def test_an_upstream_phone_in_international_form_auto_links(db, linking):
    linking(lambda s, _: make_account(s, username="zhangsan", phone="13800138001"))
    outcome = linking(lambda s, svc: svc.resolve(facts(phone="+8613800138001")))
    assert outcome.kind == AUTO_LINKED and outcome.account.username == "zhangsan"
    assert identities(db)[0].phone == "13800138001"


def test_an_account_created_from_a_formatted_phone_is_found_by_its_digits(db, linking):
    from binding.account_lookup import find_by_phone

    linking(lambda s, svc: svc.create_account(facts(phone="+86 138-0013-8099"), username="newbie"))
    with db() as s:
        assert find_by_phone(s, "13800138099").username == "newbie"


def test_a_phone_that_is_not_a_mobile_number_is_dropped_and_unverified():
    f = facts(phone="010-12345678", phone_verified=True)
    assert (f.phone, f.phone_verified, f.phone_usable) == (None, False, False)
