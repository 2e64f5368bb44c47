"""Only decision/rules/engine.py may import durable-rules (one place to audit its hazards)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_durable_rules_has_one_importer() -> None:
    importers = {
        str(path.relative_to(ROOT))
        for folder in ("decision", "bench", "training")
        for path in (ROOT / folder).rglob("*.py")
        if any(m.split(".")[0] in ("durable", "durable_rules_engine") for m in imported_modules(path))
    }
    assert importers == {"decision/rules/engine.py"}
