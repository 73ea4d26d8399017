"""Issue 5: the access log line of a federation callback says how much of its duration was spent
waiting on the portal's back channel (``upstream_ms``), so the broker's own time can be told
apart from the upstream's latency (README "Performance", ``federated_overhead_ms``)."""
import logging

from .conftest import path_of

SLOW = 0.15  # seconds the sandbox portal sleeps in each back-channel answer


def _access(caplog, path_start):
    return [r for r in caplog.records if r.name == "broker.access" and r.path.startswith(path_start)]


def test_callback_logs_its_waits_on_the_portal_and_start_logs_none(cast, browser, sandbox, caplog):
    caplog.set_level(logging.INFO, logger="broker.access")
    assert path_of(browser.login("sd-portal", "sd_zhang")) in ("/account", "/federation/linked")
    caplog.clear()
    sandbox.fault("sd-portal", slow_seconds=SLOW)
    browser.post("/logout")
    browser.login("sd-portal", "sd_zhang")
    start, = _access(caplog, "/federation/start/")
    callback, = _access(caplog, "/federation/callback/")
    assert not hasattr(start, "upstream_ms")   # discovery is cached: no back-channel call
    assert callback.upstream_calls == 2        # the code redeemed, then userinfo (keys cached)
    assert 2 * SLOW * 1000 <= callback.upstream_ms <= callback.duration_ms
    assert callback.duration_ms - callback.upstream_ms < SLOW * 1000   # the broker's own share
