"""The README documents the OIDC provider: every [oidc] setting (generated rows), every
[[clients]] and policy key, the endpoints, and the acr / amr values portals receive."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from binding.oauth import ClientPolicy, ClientSpec, OidcSettings
from broker.cli.reference import oidc_reference_rows, readme_block, reference_markdown

README = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")


def test_readme_lists_every_oidc_setting_in_the_generated_table():
    block = readme_block(README)
    assert block == reference_markdown()
    for f in dataclasses.fields(OidcSettings):
        assert re.search(rf"^\| \(TOML only\) \| `oidc\.{f.name}` \| `?{getattr(OidcSettings(), f.name)}`? \| \S",
                         block, re.M), f"oidc.{f.name} missing"
    assert len(oidc_reference_rows()) == len(dataclasses.fields(OidcSettings))


def test_readme_lists_every_client_and_policy_key():
    for f in dataclasses.fields(ClientSpec):
        if f.name != "policy":
            assert f"`{f.name}`" in README, f"[[clients]] key {f.name} missing"
    for f in dataclasses.fields(ClientPolicy):
        assert f"`policy.{f.name}`" in README, f"policy key {f.name} missing"


def test_readme_lists_the_endpoints_acr_and_amr_values(client):
    meta = client.get("/.well-known/openid-configuration").get_json()
    for key in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
                "end_session_endpoint", "introspection_endpoint", "revocation_endpoint"):
        path = meta[key].removeprefix(meta["issuer"])
        assert re.search(rf"[ `]{re.escape(path)}[`,]", README), path
    for acr in meta["acr_values_supported"]:
        assert acr.rsplit(":", 1)[0] + ":N" in README
    for amr in ("pwd", "sms", "otp", "qr", "fed"):
        assert f"`{amr}`" in README
    assert "broker clients add" in README and "broker keys rotate" in README
    assert "comes\nwith the next issues" not in README
