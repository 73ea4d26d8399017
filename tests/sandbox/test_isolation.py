"""The sandbox stands in for third parties: it must not reach into the broker (ARCHITECTURE.md)."""
from __future__ import annotations

import ast
from pathlib import Path

import sandbox.portals

ROOT = Path(sandbox.portals.__file__).parent


def test_portals_never_import_the_broker():
    files = [*ROOT.rglob("*.py"), ROOT.parent / "testing.py"]
    offenders = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in ("broker", "binding")]
    assert offenders == []
