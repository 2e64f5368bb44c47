"""One importer per fragile native engine, so each has one place to audit its hazards:
durable-rules only in decision/rules/engine.py, lleaves (LLVM) only in the model compiler."""

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


def importers(*packages: str) -> set[str]:
    return {
        str(path.relative_to(ROOT))
        for folder in ("decision", "bench", "training")
        for path in (ROOT / folder).rglob("*.py")
        if not any(part.startswith(".venv") for part in path.parts)  # bench/.venv-mlserver
        and any(m.split(".")[0] in packages for m in imported_modules(path))
    }


def test_durable_rules_has_one_importer() -> None:
    assert importers("durable", "durable_rules_engine") == {"decision/rules/engine.py"}


def test_lleaves_is_imported_by_the_compiler_child_and_the_loader_only() -> None:
    assert importers("lleaves", "llvmlite") == {"decision/model/compile_child.py", "decision/model/compiled.py"}
