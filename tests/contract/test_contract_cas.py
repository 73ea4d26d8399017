"""CAS-specific checks against the sandbox miit portal (CAS Protocol 3.0 §2.5)."""
from __future__ import annotations

import pytest

from providers.base import ProviderError
from tests.contract.cases import CASES
from tests.contract.conftest import build, login

CASE = next(c for c in CASES if c.id == "miit")


def test_cas_2_validation_gives_the_user_without_attributes(sandbox, http, clock):
    adapter = build(CASE, sandbox.base, http, clock, cas_version="2.0")
    identity = adapter.handle_callback(*login(adapter, CASE, username="miit_person"))
    # No attributes in CAS 2.0: the least privileged kind and level, no phone.
    assert (identity.subject, identity.account_kind, identity.cert_level, identity.phone) == \
        ("miit_person", "personal", 1, None)


def test_natural_person_is_personal(sandbox, http, clock):
    adapter = build(CASE, sandbox.base, http, clock)
    identity = adapter.handle_callback(*login(adapter, CASE, username="miit_person"))
    assert (identity.account_kind, identity.cert_level, identity.phone) == ("personal", 3, "13800138013")


def test_ticket_is_validated_for_exactly_the_service_it_was_issued_to(sandbox, http, clock):
    adapter = build(CASE, sandbox.base, http, clock)
    opaque, params = login(adapter, CASE)
    with pytest.raises(ProviderError) as caught:
        adapter.handle_callback({**opaque, "service": opaque["service"] + "&extra=1"}, params)
    assert caught.value.code == "upstream_invalid" and caught.value.data["reason"] == "INVALID_SERVICE"


def test_unrecognised_ticket_is_denied(sandbox, http, clock):
    adapter = build(CASE, sandbox.base, http, clock)
    opaque, params = login(adapter, CASE)
    sandbox.fault("miit", invalid_ticket=True)
    with pytest.raises(ProviderError) as caught:
        adapter.handle_callback(opaque, params)
    assert caught.value.code == "upstream_denied" and caught.value.data["reason"] == "INVALID_TICKET"
