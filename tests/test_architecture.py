"""The layering of ARCHITECTURE.md, checked by import-linter's contracts in setup.cfg:
config, lockout, providers and binding never import Flask, Werkzeug or the broker."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXPECTED_CONTRACTS = (
    "Domain packages never import Flask, Werkzeug or the broker",
    "config imports nothing of ours",
)


def _lint_imports() -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("lint-imports")  # the one installed next to this Python
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([str(exe), "--no-cache", "--config", str(ROOT / "setup.cfg")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_import_contracts_are_kept():
    result = _lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    for name in EXPECTED_CONTRACTS:
        assert f"{name} KEPT" in result.stdout, f"contract {name!r} not checked:\n{result.stdout}"
    assert "0 broken" in result.stdout
