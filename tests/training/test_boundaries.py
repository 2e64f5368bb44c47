"""Import rules: the serving-side feature code stays light, MLflow stays in one module."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVING_SIDE = ("decision/features.py", "decision/profiles.py", "decision/catalog.py")


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("module", SERVING_SIDE)
def test_serving_side_feature_code_needs_only_stdlib_and_numpy(module: str) -> None:
    outside = imports(ROOT / module) - sys.stdlib_module_names - {"numpy", "decision"}
    assert outside == set()


def test_only_the_registry_imports_mlflow() -> None:
    users = {p.name for p in (ROOT / "training").glob("*.py") if "mlflow" in imports(p)}
    assert users == {"registry.py"}


def test_decision_never_imports_training() -> None:
    users = [p for p in (ROOT / "decision").rglob("*.py") if "training" in imports(p)]
    assert users == []
