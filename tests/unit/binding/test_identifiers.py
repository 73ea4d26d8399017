"""Phone, email and USCC normalisation; telling identifiers apart (rules 1, 2)."""
import pytest

from binding.errors import ValidationFailed
from binding.identifiers import classify_identifier, is_valid_uscc, normalise_email, normalise_phone
from binding.usernames import username_problem

DEMO_USCCS = ["91110108MA01BJ2K6M", "91370600MA3YT0C83M", "91110105MA02CY7D8P", "91110114MA04CP5F95"]


@pytest.mark.parametrize("raw", ["13800138001", "+86 138 0013 8001", "86-138-0013-8001", "+8613800138001",
                                 " 138-0013-8001 ", "0086 13800138001"])
def test_phone_forms_normalise_to_eleven_digits(raw):
    assert normalise_phone(raw) == "13800138001"


@pytest.mark.parametrize("raw", ["", "12800138001", "1380013800", "138001380012", "+1 13800138001",
                                 "1380013800a", "8613800138001x"])
def test_invalid_phones_are_refused_naming_the_field(raw):
    with pytest.raises(ValidationFailed) as info:
        normalise_phone(raw)
    assert info.value.field == "phone"
    zh, en = info.value.errors["phone"]
    assert "手机号" in zh and "mobile" in en


def test_email_is_trimmed_and_lower_cased_and_checked():
    assert normalise_email("  Li.Si@Example.COM ") == "li.si@example.com"
    for bad in ("lisi", "lisi@", "@example.com", "li si@example.com", "lisi@example"):
        with pytest.raises(ValidationFailed) as info:
            normalise_email(bad)
        assert info.value.field == "email"


@pytest.mark.parametrize("uscc", DEMO_USCCS)
def test_demo_usccs_are_valid(uscc):
    assert is_valid_uscc(uscc)
    assert is_valid_uscc(uscc.lower())


@pytest.mark.parametrize("uscc", DEMO_USCCS)
def test_a_corrupted_check_character_is_invalid(uscc):
    for wrong in "0123456789ABCDEFGHJKLMNPQRTUWXY":
        if wrong != uscc[-1]:
            assert not is_valid_uscc(uscc[:-1] + wrong)


def test_uscc_shape_rules():
    assert not is_valid_uscc("91110108MA01BJ2K6")  # 17 characters
    assert not is_valid_uscc("91110108MA01BJ2KOM")  # O is not in the GB 32100 charset
    assert not is_valid_uscc("")


@pytest.mark.parametrize("raw, expected", [
    ("91110114ma04cp5f95", ("uscc", "91110114MA04CP5F95")),
    ("+86 138 0013 8001", ("phone", "13800138001")),
    ("LiSi@Example.com", ("email", "lisi@example.com")),
    (" ZhangSan ", ("username", "zhangsan")),
    ("12345", ("username", "12345")),
])
def test_classify_identifier(raw, expected):
    assert classify_identifier(raw) == expected


@pytest.mark.parametrize("name", ["zhangsan", "reviewer-yt", "li.si_2", "Abc"])
def test_good_usernames(name):
    assert username_problem(name) is None


@pytest.mark.parametrize("name, word", [
    ("ab", "3"), ("a" * 33, "32"), ("1zhangsan", "start"), ("zhang san", "letters"),
    ("li@si", "letters"), ("13800138001", "start"), ("A1110108MA01BJ2K6L", "credit code"),
    ("lisi_unbind", "_unbind"),
])
def test_bad_usernames_say_why(name, word):
    problem = username_problem(name)
    assert problem is not None and word in problem[1]
