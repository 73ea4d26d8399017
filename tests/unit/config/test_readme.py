"""The README documents every setting (issue 2, "Done when") and every stable error code."""
from __future__ import annotations

import re
from pathlib import Path

from broker.cli.reference import MEANINGS, readme_block, reference_markdown
from broker.errors import STATUS_BY_CODE
from config import setting_reference

README = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")


def test_every_setting_has_a_meaning():
    keys = {key for _, key, _ in setting_reference()}
    assert keys - set(MEANINGS) == set(), "describe new settings in broker/cli/reference.py"
    assert set(MEANINGS) - keys == set(), "a described setting no longer exists"


def test_readme_table_is_the_generated_reference():
    assert readme_block(README) == reference_markdown(), (
        "README settings table is stale: run `python -m broker.cli.reference --write README.md`")
    for env, key, _ in setting_reference():
        assert f"| `{env}` | `{key}` |" in README


def test_readme_lists_every_error_code_with_its_status():
    for code, status in STATUS_BY_CODE.items():
        assert re.search(rf"^\| `{code}` \| {status} \| \S", README, re.M), f"{code} ({status}) missing"


def test_readme_gives_the_two_setup_commands():
    assert "make demo" in README and "make test" in README
