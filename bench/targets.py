"""The JSON keys and the issue's targets (issue 5, "Targets (per core, on the 2-core development machine)")."""
from __future__ import annotations

# key -> (unit, human target, check(value, results) -> bool | None)
KEYS = (
    "argon2_hashes_per_s_per_core",
    "bare_requests_per_s_per_core",
    "password_logins_per_s_per_core",
    "password_login_share_of_argon2",
    "code_exchanges_per_s_per_core",
    "refresh_grants_per_s_per_core",
    "userinfo_per_s_per_core",
    "introspections_per_s_per_core",
    "federated_logins_per_s_per_core",
    "federated_overhead_ms",
    "federated_total_broker_ms",
    "lockout_verifications_under_200_parallel",
    "login_p99_ms_demo",
    "login_p99_ms_at_1m_accounts",
)


def _share(results, percent):
    """Logins as a share of argon2 hashes: pair by pair (``password_login_share_of_argon2``, each
    pair measured back to back), or the two medians' ratio in results written without it."""
    share = results.get("password_login_share_of_argon2")
    if share is None:
        logins, hashes = results.get("password_logins_per_s_per_core"), results.get("argon2_hashes_per_s_per_core")
        if logins is None or not hashes:
            return None
        share = 100 * logins / hashes
    return share >= percent


TARGETS = {
    "password_logins_per_s_per_core": (
        ">= 85% of argon2_hashes_per_s_per_core (judged by password_login_share_of_argon2)",
        lambda v, r: _share(r, 85.0)),
    "password_login_share_of_argon2": (">= 85 (%, median of the interleaved pairs' ratios)", lambda v, r: v >= 85.0),
    "code_exchanges_per_s_per_core": (">= 1000", lambda v, r: v >= 1000),
    "refresh_grants_per_s_per_core": (">= 1000", lambda v, r: v >= 1000),
    "federated_overhead_ms": ("<= 5 ms broker-side (start + callback, upstream waits excluded)", lambda v, r: v <= 5),
    "lockout_verifications_under_200_parallel": ("== 5", lambda v, r: v == 5),
    "login_p99_ms_at_1m_accounts": (
        "<= 1.2 x login_p99_ms_demo",
        lambda v, r: None if r.get("login_p99_ms_demo") is None else v <= 1.2 * r["login_p99_ms_demo"]),
}


def judge(results: dict) -> dict[str, dict]:
    """{key: {"target": text, "pass": True/False/None}} for every key with a target."""
    out = {}
    for key, (text, check) in TARGETS.items():
        value = results.get(key)
        out[key] = {"target": text, "pass": None if value is None else check(value, results)}
    return out
