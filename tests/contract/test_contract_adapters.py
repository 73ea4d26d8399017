"""The contract every adapter type keeps (ISSUE4.md), each against its sandbox portal over HTTP:
a full login gives the expected identity; a replayed callback, a refusal at the portal, a
foreign state and a portal that is down all fail with the right code."""
from __future__ import annotations

import socket

import pytest

from providers.base import ProviderError
from tests.contract.cases import CASES, Case, callback_url
from tests.contract.conftest import build, login

pytestmark = pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])


def _fails(code: str, call, *args) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        call(*args)
    assert caught.value.code == code, caught.value
    assert caught.value.zh and caught.value.en
    return caught.value


def test_full_login_yields_the_accounts_identity(case: Case, sandbox, http, clock):
    adapter = build(case, sandbox.base, http, clock)
    opaque, params = login(adapter, case)
    identity = adapter.handle_callback(opaque, params)
    expected = dict(case.expected, issuer=sandbox.base + case.expected["issuer"])
    got = {k: getattr(identity, k) for k in expected}
    assert got == expected
    assert identity.provider_id == case.id


def test_login_start_is_stateless_and_unique(case: Case, sandbox, http, clock):
    adapter = build(case, sandbox.base, http, clock)
    first = adapter.login_url(callback_url(case.id), "state-a")
    second = adapter.login_url(callback_url(case.id), "state-b")
    assert first.url != second.url and first.opaque["state"] == "state-a"
    # Two logins in flight at once both complete, each with its own opaque data.
    opaque_a, params_a = login(adapter, case, state="state-a")
    opaque_b, params_b = login(adapter, case, state="state-b")
    assert adapter.handle_callback(opaque_b, params_b).subject == adapter.handle_callback(opaque_a, params_a).subject


def test_replayed_callback_is_refused(case: Case, sandbox, http, clock):
    adapter = build(case, sandbox.base, http, clock)
    opaque, params = login(adapter, case)
    adapter.handle_callback(opaque, params)
    with pytest.raises(ProviderError) as caught:
        adapter.handle_callback(opaque, params)
    assert caught.value.code in ("upstream_invalid", "upstream_denied")
    assert not caught.value.retry


def test_refusal_at_the_portal_is_upstream_denied(case: Case, sandbox, http, clock):
    adapter = build(case, sandbox.base, http, clock)
    start = adapter.login_url(callback_url(case.id), "state-0123456789")
    error = _fails("upstream_denied", adapter.handle_callback, start.opaque, case.denied("state-0123456789", start.opaque))
    assert not error.retry


def test_foreign_state_is_refused(case: Case, sandbox, http, clock):
    adapter = build(case, sandbox.base, http, clock)
    opaque, params = login(adapter, case)
    error = _fails("upstream_invalid", adapter.handle_callback, opaque, {**params, "state": "state-of-another-login"})
    assert error.data["reason"] == "state"
    error = _fails("upstream_invalid", adapter.handle_callback, opaque, {k: v for k, v in params.items() if k != "state"})
    assert error.data["reason"] == "state"


def test_portal_stopped_after_login_is_unavailable_with_retry(case: Case, sandbox, http, clock):
    adapter = build(case, sandbox.base, http, clock)
    opaque, params = login(adapter, case)
    sandbox.stop()
    error = _fails("upstream_unavailable", adapter.handle_callback, opaque, params)
    assert error.retry
    assert "稍后重试" in error.zh and "try again" in error.en


def test_unreachable_portal_is_unavailable_with_retry(case: Case, sandbox, http, clock):
    with socket.socket() as probe:   # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    adapter = build(case, dead, http, clock)
    with pytest.raises(ProviderError) as caught:
        start = adapter.login_url(callback_url(case.id), "state-0123456789")   # OIDC discovers here
        adapter.handle_callback(start.opaque, {"state": "state-0123456789", "code": "c", "ticket": "ST-1"})
    assert caught.value.code == "upstream_unavailable" and caught.value.retry


def test_portal_error_page_is_unavailable_with_retry(case: Case, sandbox, http, clock):
    adapter = build(case, sandbox.base, http, clock)
    opaque, params = login(adapter, case)
    sandbox.fault(case.id, **{f"{case.backchannel}_status": 502})
    assert _fails("upstream_unavailable", adapter.handle_callback, opaque, params).retry


def test_slow_portal_times_out_as_unavailable(case: Case, sandbox, http, clock):
    adapter = build(case, sandbox.base, http, clock, timeout_seconds=0.3)
    opaque, params = login(adapter, case)
    sandbox.fault(case.id, slow_seconds=1)
    error = _fails("upstream_unavailable", adapter.handle_callback, opaque, params)
    assert error.retry and "timeout" in error.data["reason"]


def test_callback_without_code_or_ticket_is_a_refusal(case: Case, sandbox, http, clock):
    # WeChat comes back with the state alone when the user declines; a CAS login abandoned at the
    # portal has no ticket.
    adapter = build(case, sandbox.base, http, clock)
    start = adapter.login_url(callback_url(case.id), "state-0123456789")
    params = {k: v for k, v in case.denied("state-0123456789", start.opaque).items() if k != "error"}
    assert _fails("upstream_denied", adapter.handle_callback, start.opaque, params).data["reason"] == "cancelled"


def test_secrets_codes_and_tokens_stay_out_of_logs_and_errors(case: Case, sandbox, http, clock, caplog):
    adapter = build(case, sandbox.base, http, clock)
    opaque, params = login(adapter, case)
    sandbox.stop()   # transport errors carry the request URL, whose query may hold the app secret
    with caplog.at_level("DEBUG", logger="providers"):
        with pytest.raises(ProviderError) as caught:
            adapter.handle_callback(opaque, params)
    error = caught.value
    visible = caplog.text + str(error) + error.zh + error.en + repr(error.data)
    for secret in ("tongxing-sandbox-secret", params.get("code") or params.get("ticket")):
        assert secret not in visible
    assert error.__cause__ is None and error.__suppress_context__   # no chained traceback with the URL


def test_an_answer_naming_another_issuer_is_refused(case: Case, sandbox, http, clock):
    # RFC 9207 §2.4 for every type: an ``iss`` in the callback, whenever present, must name the
    # portal the login was sent to (mix-up defence).
    adapter = build(case, sandbox.base, http, clock)
    opaque, params = login(adapter, case)
    error = _fails("upstream_invalid", adapter.handle_callback, opaque, {**params, "iss": "http://127.0.0.1:1/other"})
    assert error.data["reason"] == "iss"
    # ...and a login started at another portal is refused too.
    error = _fails("upstream_invalid", adapter.handle_callback, {**opaque, "issuer": "http://127.0.0.1:1/other"},
                   params)
    assert error.data["reason"] == "iss"
