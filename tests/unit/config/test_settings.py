"""Settings: defaults, TOML < environment < overrides, every problem at once, production refusals."""
from __future__ import annotations

import pytest

from config import ConfigError, load_settings

STRONG_KEY = "k" * 40


def _problems(environ=None, overrides=None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ or {}, overrides)
    return caught.value.problems


def _toml(tmp_path, text: str) -> dict[str, str]:
    path = tmp_path / "broker.toml"
    path.write_text(text, encoding="utf-8")
    return {"BROKER_CONFIG": str(path)}


def test_defaults_describe_a_local_development_broker():
    s = load_settings({})
    assert (s.env, s.issuer, s.database_url, s.redis_url, s.demo) == (
        "development", "http://127.0.0.1:5000", "", "", False)
    assert (s.lockout.max_failures, s.lockout.window_seconds) == (5, 600)
    assert (s.codes.ttl_seconds, s.codes.length, s.codes.send_interval_seconds) == (300, 6, 60)
    assert s.password.argon2_memory_kib == 19456
    assert s.lockout.ip_failure_threshold > s.lockout.max_failures
    assert s.cookie_secure is False  # loopback http issuer


def test_https_issuer_makes_cookies_secure():
    assert load_settings({"BROKER_ISSUER": "https://sso.example.cn"}).cookie_secure is True


def test_environment_overrides_toml_and_toml_overrides_defaults(tmp_path):
    environ = _toml(tmp_path, """
issuer = "https://toml.example.cn"
log_level = "DEBUG"
[lockout]
max_failures = 3
window_seconds = 120
[clients.gjj-fund]
secret = "kept for later features"
""")
    environ.update({"BROKER_LOCKOUT_MAX_FAILURES": "4", "BROKER_ISSUER": "https://env.example.cn"})
    s = load_settings(environ)
    assert s.issuer == "https://env.example.cn"
    assert s.log_level == "DEBUG"
    assert (s.lockout.max_failures, s.lockout.window_seconds) == (4, 120)
    assert s.extra["clients"]["gjj-fund"]["secret"] == "kept for later features"


def test_explicit_overrides_win_over_environment():
    s = load_settings({"BROKER_LOCKOUT_MAX_FAILURES": "4"}, {"lockout": {"max_failures": 2}})
    assert s.lockout.max_failures == 2


def test_booleans_and_auto_are_understood_from_text():
    s = load_settings({"BROKER_DEMO": "yes", "BROKER_SESSION_COOKIE_SECURE": "auto"})
    assert s.demo is True and s.session.cookie_secure is None
    assert load_settings({"BROKER_SESSION_COOKIE_SECURE": "true"}).cookie_secure is True


def test_every_problem_is_reported_at_once_with_its_setting_name(tmp_path):
    environ = _toml(tmp_path, "[lockout]\nwindow_seconds = 0\nbogus = 1\n")
    environ.update({
        "BROKER_ENV": "staging",
        "BROKER_LOCKOUT_MAX_FAILURES": "five",
        "BROKER_DEMO": "maybe",
        "BROKER_ISSUER": "ftp://example.cn",
        "BROKER_DEFAULT_LOCALE": "fr",
    })
    problems = _problems(environ)
    text = "\n".join(problems)
    for name in ("BROKER_ENV", "BROKER_LOCKOUT_MAX_FAILURES", "BROKER_DEMO", "BROKER_ISSUER",
                 "BROKER_DEFAULT_LOCALE", "BROKER_LOCKOUT_WINDOW_SECONDS", "lockout.bogus"):
        assert name in text, f"{name} missing from {problems}"
    assert len(problems) >= 7


def test_unreadable_config_file_is_named(tmp_path):
    problems = _problems({"BROKER_CONFIG": str(tmp_path / "missing.toml")})
    assert problems[0].startswith("BROKER_CONFIG:") and "missing.toml" in problems[0]


def test_ip_threshold_must_stay_above_one_accounts_failures():
    problems = _problems({"BROKER_LOCKOUT_IP_FAILURE_THRESHOLD": "5"})
    assert any(p.startswith("BROKER_LOCKOUT_IP_FAILURE_THRESHOLD") for p in problems)


GATEWAYS = {"BROKER_SMS_GATEWAY": "webhook", "BROKER_SMS_WEBHOOK_URL": "https://sms-relay.example.cn/send",
            "BROKER_SMS_WEBHOOK_SECRET": "w" * 40, "BROKER_EMAIL_GATEWAY": "smtp",
            "BROKER_EMAIL_SMTP_HOST": "smtp.example.cn", "BROKER_EMAIL_FROM_ADDRESS": "sso@example.cn"}
PRODUCTION = {"BROKER_ENV": "production", "BROKER_ISSUER": "https://sso.example.cn", "SECRET_KEY": STRONG_KEY,
              **GATEWAYS}


def test_production_with_https_issuer_and_strong_key_starts():
    s = load_settings(PRODUCTION)
    assert s.production and s.cookie_secure


def test_production_refuses_a_missing_secret_key():
    problems = _problems({**PRODUCTION, "SECRET_KEY": ""})
    assert problems == ["SECRET_KEY: required in production"]


@pytest.mark.parametrize("key", ["tongxing-demo-secret-key-never-use-in-production", "short-but-real"])
def test_production_refuses_demo_and_short_secrets(key):
    problems = _problems({**PRODUCTION, "SECRET_KEY": key})
    assert len(problems) == 1 and problems[0].startswith("SECRET_KEY:")


def test_production_refuses_an_http_issuer_that_is_not_loopback():
    problems = _problems({**PRODUCTION, "BROKER_ISSUER": "http://sso.example.cn"})
    assert problems == ["BROKER_ISSUER: production needs https:// (http:// only on loopback)"]
    assert load_settings({**PRODUCTION, "BROKER_ISSUER": "http://127.0.0.1:8000"}).production


def test_production_refuses_demo_mode_and_the_demo_captcha():
    problems = _problems({**PRODUCTION, "BROKER_DEMO": "true", "BROKER_DEMO_CAPTCHA": "DEMO"})
    assert {p.split(":")[0] for p in problems} == {"BROKER_DEMO", "BROKER_DEMO_CAPTCHA"}


def test_production_lists_all_its_refusals_together():
    problems = _problems({"BROKER_ENV": "production", "BROKER_ISSUER": "http://sso.example.cn",
                          "BROKER_DEMO": "1"})
    assert {p.split(":")[0] for p in problems} == {"BROKER_ISSUER", "SECRET_KEY", "BROKER_DEMO",
                                                   "BROKER_SMS_GATEWAY", "BROKER_EMAIL_GATEWAY"}


def test_production_refuses_the_development_outbox_for_codes():
    problems = _problems({**PRODUCTION, "BROKER_SMS_GATEWAY": "outbox", "BROKER_EMAIL_GATEWAY": "outbox"})
    assert problems == [
        "BROKER_SMS_GATEWAY: production cannot keep codes in the development outbox; use webhook",
        "BROKER_EMAIL_GATEWAY: production cannot keep codes in the development outbox; use smtp"]
    assert load_settings({}).sms.gateway == load_settings({}).email.gateway == "outbox"  # development


def test_real_gateways_name_what_they_miss():
    problems = _problems({"BROKER_SMS_GATEWAY": "webhook", "BROKER_EMAIL_GATEWAY": "smtp",
                          "BROKER_EMAIL_SMTP_SECURITY": "tls", "BROKER_EMAIL_SMTP_USERNAME": "mailer"})
    assert {p.split(":")[0] for p in problems} == {
        "BROKER_SMS_WEBHOOK_URL", "BROKER_SMS_WEBHOOK_SECRET", "BROKER_EMAIL_SMTP_HOST",
        "BROKER_EMAIL_FROM_ADDRESS", "BROKER_EMAIL_SMTP_SECURITY", "BROKER_EMAIL_SMTP_PASSWORD"}
    assert _problems({"BROKER_SMS_GATEWAY": "carrier-pigeon"}) == [
        "BROKER_SMS_GATEWAY: must be one of outbox, webhook, got 'carrier-pigeon'"]


def test_production_gateways_need_tls_and_a_strong_webhook_secret():
    problems = _problems({**PRODUCTION, "BROKER_SMS_WEBHOOK_URL": "http://sms-relay.example.cn/send",
                          "BROKER_SMS_WEBHOOK_SECRET": "demo-webhook-secret", "BROKER_EMAIL_SMTP_SECURITY": "none"})
    assert {p.split(":")[0] for p in problems} == {
        "BROKER_SMS_WEBHOOK_URL", "BROKER_SMS_WEBHOOK_SECRET", "BROKER_EMAIL_SMTP_SECURITY"}
    # A relay on the same machine may take plain SMTP.
    assert load_settings({**PRODUCTION, "BROKER_EMAIL_SMTP_SECURITY": "none",
                          "BROKER_EMAIL_SMTP_HOST": "127.0.0.1"}).email.smtp_security == "none"


def test_misspelt_settings_and_sections_are_problems_not_silently_ignored(tmp_path):
    environ = _toml(tmp_path, """
isuer = "https://sso.example.cn"
[lockuot]
max_failures = 3
[[client]]
client_id = "x"
[oidc]
code_ttl_seconds = 60
[[clients]]
client_id = "kept"
""")
    problems = _problems(environ)
    assert problems == [
        "isuer: unknown setting (did you mean 'issuer'?)",
        "[lockuot]: unknown section (did you mean 'lockout'?); known sections: lockout, codes, password, "
        "session, captcha, sms, email, oidc, clients, providers",
        "[client]: unknown section (did you mean 'clients'?); known sections: lockout, codes, password, "
        "session, captcha, sms, email, oidc, clients, providers",
    ]


def test_known_tables_of_other_parts_are_kept_for_them(tmp_path):
    s = load_settings(_toml(tmp_path, '[oidc]\ncode_ttl_seconds = 30\n[[providers]]\nid = "p"\n'))
    assert s.extra == {"oidc": {"code_ttl_seconds": 30}, "providers": [{"id": "p"}]}


def test_log_level_and_trusted_proxies_are_checked():
    assert _problems({"BROKER_LOG_LEVEL": "LOUD", "BROKER_TRUSTED_PROXIES": "-1"}) == [
        "BROKER_LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'LOUD'",
        "BROKER_TRUSTED_PROXIES: the number of proxies in front of the broker, 0 to 10"]
    s = load_settings({"BROKER_LOG_LEVEL": "debug", "BROKER_TRUSTED_PROXIES": "2"})
    assert (s.log_level, s.trusted_proxies) == ("debug", 2)


def test_sqlite_durability_is_full_in_production_unless_chosen():
    assert load_settings({}).sqlite_synchronous_mode == "normal"
    assert load_settings({**PRODUCTION}).sqlite_synchronous_mode == "full"
    assert load_settings({**PRODUCTION, "BROKER_SQLITE_SYNCHRONOUS": "normal"}).sqlite_synchronous_mode == "normal"
    assert load_settings({"BROKER_SQLITE_SYNCHRONOUS": "full"}).sqlite_synchronous_mode == "full"
    problems = _problems({"BROKER_SQLITE_SYNCHRONOUS": "off"})
    assert any(p.startswith("BROKER_SQLITE_SYNCHRONOUS: must be one of auto, normal, full") for p in problems)
