"""The claim mapping of ISSUE4.md: dotted paths, value maps, constants and missing fields."""
from __future__ import annotations

import pytest

from providers.base import ProviderError
from providers.errors import Names
from providers.mapping import ClaimMapping

NAMES = Names("sd-portal", "山东省统一身份认证", "Shandong portal")


def mapping(**table):
    parsed, problems = ClaimMapping.parse(table)
    assert problems == []
    return parsed


def identity(table, claims):
    return mapping(**table).identity("sd-portal", "https://idp.example", claims, NAMES)


def refused(table, claims) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        identity(table, claims)
    assert caught.value.code == "upstream_invalid"
    return caught.value


def test_dotted_paths_read_nested_answers():
    got = identity({"subject": "data.userId", "phone": "data.mobile", "phone_verified": "data.mobileVerified",
                    "login_name": "data.accounts.0.name"},
                   {"code": 0, "data": {"userId": "u-1", "mobile": "13800138007", "mobileVerified": True,
                                        "accounts": [{"name": "yzt_a"}]}})
    assert (got.subject, got.phone, got.phone_verified, got.login_name) == ("u-1", "13800138007", True, "yzt_a")


def test_a_claim_named_with_dots_wins_over_the_path():
    got = identity({"subject": "sub", "name": "https://example.gov/name"},
                   {"sub": "s", "https://example.gov/name": "张三"})
    assert got.display_name == "张三"


def test_first_present_of_several_claims():
    table = {"subject": ["unionid", "openid"]}
    assert identity(table, {"openid": "o-1", "unionid": "u-1"}).subject == "u-1"
    assert identity(table, {"openid": "o-1", "unionid": ""}).subject == "o-1"
    assert identity(table, {"openid": "o-1"}).subject == "o-1"


def test_value_maps_translate_kind_and_level():
    table = {"subject": "sub", "account_kind": {"claim": "user_type", "map": {"natural": "personal", "legal": "legal"}},
             "cert_level": {"claim": "auth_level", "map": {"L1": 1, "L3": 3}}}
    got = identity(table, {"sub": "s", "user_type": "legal", "auth_level": "L3"})
    assert (got.account_kind, got.cert_level) == ("legal", 3)


def test_level_without_map_is_read_as_an_integer():
    table = {"subject": "sub", "cert_level": {"claim": "certLevel"}}
    assert identity(table, {"sub": "s", "certLevel": "4"}).cert_level == 4
    assert identity(table, {"sub": "s", "certLevel": 2}).cert_level == 2


@pytest.mark.parametrize("value", ["7", 0, "L3", "high", True])
def test_unusable_level_is_refused_never_guessed(value):
    error = refused({"subject": "sub", "cert_level": "lvl"}, {"sub": "s", "lvl": value})
    assert error.data["reason"] == "cert_level"


def test_unmapped_kind_is_refused_never_guessed():
    table = {"subject": "sub", "account_kind": {"claim": "t", "map": {"PERSON": "personal", "LEGAL": "legal"}}}
    assert refused(table, {"sub": "s", "t": "ORG"}).data["reason"] == "account_kind"
    assert refused({"subject": "sub", "account_kind": "t"}, {"sub": "s", "t": "natural"}).data["reason"] == "account_kind"


def test_absent_kind_and_level_fall_back_to_the_least_privileged():
    table = {"subject": "sub", "account_kind": {"claim": "t", "map": {"LEGAL": "legal"}}, "cert_level": "lvl"}
    got = identity(table, {"sub": "s"})
    assert (got.account_kind, got.cert_level) == ("personal", 1)


def test_constants_and_defaults():
    table = {"subject": "user", "phone": "mobile", "phone_verified_default": True,
             "account_kind": {"value": "legal"}, "cert_level": {"claim": "lvl", "default": 2}}
    got = identity(table, {"user": "u", "mobile": "13800138014"})
    assert (got.phone_verified, got.account_kind, got.cert_level) == (True, "legal", 2)
    assert identity(table, {"user": "u", "mobile": "13800138014", "lvl": "3"}).cert_level == 3


def test_phone_is_never_verified_without_a_phone():
    got = identity({"subject": "sub", "phone": "p", "phone_verified_default": True}, {"sub": "s"})
    assert (got.phone, got.phone_verified) == (None, False)


@pytest.mark.parametrize("value, expected", [(True, True), ("true", True), ("1", True), (1, True),
                                             (False, False), ("false", False), ("0", False), (None, False)])
def test_phone_verified_values(value, expected):
    got = identity({"subject": "sub", "phone": "p", "phone_verified": "v"}, {"sub": "s", "p": "138", "v": value})
    assert got.phone_verified is expected


@pytest.mark.parametrize("claims", [{}, {"sub": ""}, {"sub": None}, {"sub": {"id": 1}}, {"other": "x"}])
def test_missing_subject_is_upstream_invalid(claims):
    error = refused({"subject": "sub"}, claims)
    assert error.data["reason"] == "subject" and error.data["provider"] == "sd-portal"
    assert "山东省统一身份认证" in error.zh and "Shandong portal" in error.en


def test_numeric_subject_becomes_a_string():
    assert identity({"subject": "uid"}, {"uid": 5012345678}).subject == "5012345678"


def test_missing_optional_fields_stay_empty():
    got = identity({"subject": "sub", "name": "name", "uscc": "data.creditCode"}, {"sub": "s", "data": None})
    assert (got.display_name, got.uscc, got.enterprise_name) == (None, None, None)


def test_every_mapping_problem_is_reported_at_once():
    _, problems = ClaimMapping.parse({
        "subjekt": "sub",
        "phone": 5,
        "account_kind": {"claim": "t", "map": {"natural": "person"}},
        "cert_level": {"claim": "l", "map": {"L9": 9}, "default": "3", "extra": 1},
        "phone_verified_default": "yes",
        "name": {"map": {"a": "b"}},
        "uscc": {"claim": "x", "value": "y"},
        "login_name": {"claim": ""},
    }, "providers[sd-portal].claims")
    p = "providers[sd-portal].claims."
    assert problems == [
        f"{p}subjekt: unknown field (known: subject, login_name, phone, phone_verified, name, enterprise_name, "
        "uscc, account_kind, cert_level, or <field>_default)",
        f"{p}phone: must be a claim name, a list of claim names or a table",
        f"{p}account_kind.map.natural: must be one of personal, legal (got 'person')",
        f"{p}cert_level.extra: unknown key (known: claim, default, map, value)",
        f"{p}cert_level.map.L9: must be an integer 1-5 (got 9)",
        f"{p}cert_level.default: must be an integer 1-5 (got '3')",
        f"{p}phone_verified_default: must be true or false (got 'yes')",
        f"{p}name.claim: required (or value = a constant)",
        f"{p}uscc: give either claim or value, not both",
        f"{p}login_name.claim: must be a non-empty claim name or list of claim names",
        f"{p}subject: required (the claim naming the user at the upstream)",
    ]
