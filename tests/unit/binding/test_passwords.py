"""Password strength rules and hashing (issue 2 "Local accounts")."""
import pytest
from passlib.hash import bcrypt, pbkdf2_sha256

from binding.passwords import PasswordHasher, password_problem
from config import PasswordSettings

RULES = PasswordSettings()  # strength rules read only min/max length

DEMO_CAST = [("zhangsan", "Zs@demo2026"), ("lisi", "Ls@demo2026"), ("wangwu", "Ww@demo2026"),
             ("support", "Support@demo2026"), ("reviewer-yt", "Review@demo2026"),
             ("reviewer-bj", "Review@demo2026"), ("sd_zhang", "Portal@2026")]


@pytest.mark.parametrize("username, password", DEMO_CAST)
def test_demo_passwords_pass(username, password):
    assert password_problem(password, RULES, username) is None


@pytest.mark.parametrize("password, rule, en_word", [
    ("Ab1!xyz", "length_min", "at least 8"),
    ("Ab1!" * 40, "length_max", "at most 128"),
    ("aaaaaaaaaa", "one_char", "repeated"),
    ("abcdefgh12", "classes", "three of"),
    ("ABCDEFGH!!", "classes", "three of"),
    ("Zhangsan2026!", "contains_username", "username"),
])
def test_each_rule_says_what_failed(password, rule, en_word):
    problem = password_problem(password, RULES, "zhangsan")
    assert problem.rule == rule
    assert en_word in problem.en and problem.zh


def test_length_limits_come_from_settings():
    short = PasswordSettings(min_length=12)
    assert password_problem("Zs@demo2026", short).rule == "length_min"
    assert "12" in password_problem("Zs@demo2026", short).en


def test_argon2id_with_owasp_parameters_by_default():
    hasher = PasswordHasher(PasswordSettings())
    stored = hasher.hash("Zs@demo2026")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert hasher.verify("Zs@demo2026", stored) == (True, None)
    assert hasher.verify("Zs@demo2027", stored) == (False, None)


@pytest.mark.parametrize("legacy", [bcrypt, pbkdf2_sha256], ids=["bcrypt", "pbkdf2_sha256"])
def test_legacy_hashes_verify_and_come_back_as_argon2id(legacy):
    hasher = PasswordHasher(PasswordSettings(argon2_memory_kib=1024, argon2_time_cost=1))
    imported = legacy.hash("Ls@demo2026")
    ok, new_hash = hasher.verify("Ls@demo2026", imported)
    assert ok and new_hash.startswith("$argon2id$")
    assert hasher.verify("Ls@demo2026", new_hash) == (True, None)
    assert hasher.verify("wrong-pass", imported) == (False, None)


def test_changed_argon2_parameters_rehash_on_verify():
    old = PasswordHasher(PasswordSettings(argon2_memory_kib=1024, argon2_time_cost=1))
    stored = old.hash("Ww@demo2026")
    ok, new_hash = PasswordHasher(PasswordSettings()).verify("Ww@demo2026", stored)
    assert ok and "m=19456,t=2,p=1" in new_hash


def test_unknown_hash_format_is_a_mismatch_not_a_crash():
    hasher = PasswordHasher(PasswordSettings(argon2_memory_kib=1024, argon2_time_cost=1))
    assert hasher.verify("x", "not-a-hash") == (False, None)
    hasher.dummy_verify("anything")  # spends time, answers nothing
