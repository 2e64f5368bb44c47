"""Import boundaries of the model tier, checked on the source (cheap, no imports run)."""

from __future__ import annotations

import ast
from pathlib import Path

DECISION = Path(__file__).resolve().parents[3] / "decision"


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_only_the_registry_module_imports_mlflow() -> None:
    importers = {
        str(path.relative_to(DECISION.parent)) for path in DECISION.rglob("*.py") if "mlflow" in imported_roots(path)
    }
    assert importers == {"decision/model/registry.py"}


def test_the_canary_child_imports_nothing_from_the_project() -> None:
    roots = imported_roots(DECISION / "model" / "canary_child.py")
    assert roots <= {"hashlib", "json", "sys", "typing", "lightgbm", "numpy"}
