"""OIDC-specific checks against the sandbox sd-portal (OIDC Core §3.1.3.7, RFC 9207, RFC 7636):
each fault bends one thing of an otherwise valid login, and the adapter must refuse it."""
from __future__ import annotations

import base64

import pytest

from providers.base import ProviderError
from sandbox.portals import rotate_signing_key
from tests.contract.cases import CASES, callback_url
from tests.contract.conftest import body_json, build, login

CASE = next(c for c in CASES if c.id == "sd-portal")


@pytest.fixture
def adapter(sandbox, http, clock):
    return build(CASE, sandbox.base, http, clock)


def _refused(adapter, opaque, params, reason: str) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        adapter.handle_callback(opaque, params)
    assert caught.value.code == "upstream_invalid", caught.value
    assert caught.value.data["reason"] == reason, caught.value
    assert not caught.value.retry
    return caught.value


def test_issuer_mix_up_is_refused(adapter, sandbox):
    # RFC 9207 §2.4: an answer naming another issuer than the one the login was sent to.
    sandbox.fault("sd-portal", iss_param="http://127.0.0.1:1/evil-portal")
    _refused(adapter, *login(adapter, CASE), "iss")


def test_missing_iss_is_refused_when_discovery_promises_it(adapter, sandbox):
    sandbox.fault("sd-portal", iss_param="")
    _refused(adapter, *login(adapter, CASE), "iss")


def test_opaque_data_of_another_issuer_is_refused(adapter, sandbox):
    opaque, params = login(adapter, CASE)
    _refused(adapter, {**opaque, "issuer": "http://127.0.0.1:1/evil-portal"}, params, "iss")


def test_wrong_nonce_is_refused(adapter, sandbox):
    sandbox.fault("sd-portal", id_token_nonce="a-nonce-of-another-login")
    _refused(adapter, *login(adapter, CASE), "nonce")


def test_id_token_signed_by_an_unpublished_key_is_refused(adapter, sandbox):
    sandbox.fault("sd-portal", id_token_sign_with_other_key=True)
    _refused(adapter, *login(adapter, CASE), "signature")


def test_id_token_with_a_broken_signature_under_a_known_kid_is_refused(adapter, sandbox):
    def flip(tokens):
        head, payload, signature = tokens["id_token"].split(".")
        raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
        raw[10] ^= 0x01
        tokens["id_token"] = ".".join([head, payload, base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()])

    sandbox.rewrite["/sd-portal/token"] = body_json(flip)
    _refused(adapter, *login(adapter, CASE), "signature")


def test_id_token_with_changed_claims_fails_its_signature(adapter, sandbox):
    def promote(tokens):
        head, payload, signature = tokens["id_token"].split(".")
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).replace(b'"aud"', b'"aud" ', 1)
        tokens["id_token"] = ".".join([head, base64.urlsafe_b64encode(raw).rstrip(b"=").decode(), signature])

    sandbox.rewrite["/sd-portal/token"] = body_json(promote)
    _refused(adapter, *login(adapter, CASE), "signature")


def test_expired_id_token_is_refused(adapter, sandbox):
    sandbox.fault("sd-portal", id_token_expired=True)
    _refused(adapter, *login(adapter, CASE), "exp")


def test_id_token_expires_by_the_injected_clock(adapter, sandbox, clock):
    opaque, params = login(adapter, CASE)
    clock.advance(minutes=15)   # the sandbox's ID tokens live 10 minutes; the leeway is 1 minute
    _refused(adapter, opaque, params, "exp")


def test_id_token_within_the_leeway_is_accepted(adapter, sandbox, clock):
    opaque, params = login(adapter, CASE)
    clock.advance(seconds=-30)   # our clock half a minute behind the portal's
    assert adapter.handle_callback(opaque, params).login_name == "sd_zhang"


def test_id_token_for_another_client_is_refused(adapter, sandbox):
    sandbox.fault("sd-portal", id_token_aud="another-relying-party")
    _refused(adapter, *login(adapter, CASE), "aud")


def test_id_token_for_several_audiences_needs_our_azp(adapter, sandbox):
    sandbox.fault("sd-portal", id_token_aud=["tongxing", "another-relying-party"])
    _refused(adapter, *login(adapter, CASE), "aud")


def test_id_token_of_another_issuer_is_refused(adapter, sandbox):
    sandbox.fault("sd-portal", id_token_iss="http://127.0.0.1:1/evil-portal")
    _refused(adapter, *login(adapter, CASE), "iss")


def test_jwks_is_fetched_again_after_the_portal_rotates_its_key(adapter, sandbox):
    assert adapter.handle_callback(*login(adapter, CASE)).login_name == "sd_zhang"   # JWKS now cached
    rotate_signing_key(sandbox.app)
    assert adapter.handle_callback(*login(adapter, CASE)).login_name == "sd_zhang"


def test_discovery_is_cached_until_its_ttl(adapter, sandbox, clock):
    adapter.login_url(callback_url("sd-portal"), "s1")
    sandbox.stop()
    adapter.login_url(callback_url("sd-portal"), "s2")   # served from the cache
    clock.advance(seconds=3601)
    with pytest.raises(ProviderError) as caught:
        adapter.login_url(callback_url("sd-portal"), "s3")
    assert caught.value.code == "upstream_unavailable"


def test_pkce_verifier_is_required_by_the_portal(adapter, sandbox):
    opaque, params = login(adapter, CASE)
    with pytest.raises(ProviderError) as caught:
        adapter.handle_callback({**opaque, "code_verifier": "x" * 64}, params)
    assert caught.value.code == "upstream_denied"   # invalid_grant at the token endpoint


def test_login_url_carries_pkce_s256_and_nonce(adapter, sandbox):
    start = adapter.login_url(callback_url("sd-portal"), "s1")
    assert "code_challenge_method=S256" in start.url and f"nonce={start.opaque['nonce']}" in start.url
    assert start.opaque["code_verifier"] not in start.url


@pytest.mark.parametrize("endpoint", ["token_endpoint", "jwks_uri", "userinfo_endpoint"])
def test_discovered_endpoints_must_be_web_urls(sandbox, http, clock, endpoint):
    # SSRF hardening: a discovery document cannot point the back channel at file:, gopher:...
    sandbox.rewrite["/sd-portal/.well-known/openid-configuration"] = body_json(
        lambda meta: meta.update({endpoint: "file:///etc/passwd"}))
    adapter = build(CASE, sandbox.base, http, clock)
    with pytest.raises(ProviderError) as caught:
        adapter.login_url(callback_url(CASE.id), "state-0123456789")
    assert caught.value.code == "upstream_invalid" and caught.value.data["reason"] == "discovery"
