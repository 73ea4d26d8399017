"""The README's provider examples are complete, valid configs, one for every adapter type."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from providers.registry import ADAPTER_TYPES, build_providers

README = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")


def test_readme_has_a_working_example_for_every_type():
    section = README.split("## Upstream providers", 1)[1]
    blocks = re.findall(r"```toml\n(.*?)```", section, re.S)
    tables = [t for block in blocks for t in tomllib.loads(block)["providers"]]
    adapters = build_providers(tables)
    assert sorted(a.type for a in adapters.values()) == sorted(ADAPTER_TYPES)


def test_the_demo_points_every_adapter_at_the_sandbox():
    from sandbox.portals.demo_config import provider_tables

    adapters = build_providers(provider_tables("http://127.0.0.1:5001"))
    assert sorted(a.type for a in adapters.values()) == sorted(ADAPTER_TYPES)
    assert all(a.login_url("http://127.0.0.1:5000/cb", "s").url.startswith("http://127.0.0.1:5001/")
               for a in adapters.values() if a.type != "oidc")   # OIDC would fetch its discovery
