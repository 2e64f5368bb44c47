"""Import boundaries, checked on the source with `ast` (nothing is imported or run).

They keep the hot path greppable and the serving image small: the core never sees gRPC,
tiers stay independent, each fragile native engine and the registry client have one
importer to audit, and the service never depends on the training package.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DECISION = ROOT / "decision"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, by full dotted name (relative imports are banned by ruff)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def sources(*folders: str) -> Iterator[Path]:
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if not any(part.startswith(".venv") for part in path.parts) and "v1" not in path.parts:
                yield path


def importers(prefixes: tuple[str, ...], *folders: str) -> set[str]:
    """Files (relative to the repo) importing any module equal to or under one of `prefixes`."""
    return {
        str(path.relative_to(ROOT))
        for path in sources(*folders)
        if any(m == p or m.startswith(p + ".") for m in imported_modules(path) for p in prefixes)
    }


def test_decision_never_imports_training() -> None:
    assert importers(("training",), "decision") == set()


def test_grpc_and_the_stubs_only_in_the_api_runtime_and_cli() -> None:
    allowed = ("decision/api/", "decision/runtime/", "decision/cli.py")
    grpc_users = importers(("grpc", "grpc_health", "grpc_reflection", "decision.v1"), "decision")
    assert {path for path in grpc_users if not path.startswith(allowed)} == set()
    assert "decision/api/servicer.py" in grpc_users  # the check sees real importers


@pytest.mark.parametrize("tier", sorted(p.name for p in (DECISION / "tiers").iterdir() if (p / "__init__.py").exists()))
def test_tiers_never_import_each_other_nor_the_api_or_runtime(tier: str) -> None:
    others = tuple(f"decision.tiers.{p.name}" for p in (DECISION / "tiers").iterdir() if p.name != tier)
    assert importers((*others, "decision.api", "decision.runtime"), f"decision/tiers/{tier}") == set()


def test_the_pipeline_names_no_concrete_tier() -> None:
    assert importers(("decision.tiers", "decision.api", "decision.runtime"), "decision/pipeline") == set()


def test_durable_rules_has_one_importer() -> None:
    assert importers(("durable", "durable_rules_engine"), "decision", "training", "bench") == {
        "decision/tiers/rules/engine.py"
    }


def test_mlflow_only_in_registry_modules() -> None:
    users = importers(("mlflow",), "decision", "training")
    assert {path for path in users if not path.endswith("registry.py")} == set()
    assert "decision/tiers/model/registry.py" in users


def test_lleaves_only_in_the_compiler_child_and_the_loader() -> None:
    assert importers(("lleaves", "llvmlite"), "decision", "training", "bench") == {
        "decision/tiers/model/compile_child.py",
        "decision/tiers/model/compiled.py",
    }


@pytest.mark.parametrize(
    "module", ["features.py", "profiles.py", "catalog.py", "segments.py", "segment_features.py", "segment_file.py"]
)
def test_serving_side_sources_need_only_stdlib_and_numpy(module: str) -> None:
    roots = {name.split(".")[0] for name in imported_modules(DECISION / "sources" / module)}
    assert roots - sys.stdlib_module_names - {"numpy", "decision"} == set()


def test_the_load_check_child_imports_nothing_from_the_project() -> None:
    roots = {name.split(".")[0] for name in imported_modules(DECISION / "tiers" / "model" / "load_check_child.py")}
    assert roots <= {"hashlib", "json", "sys", "typing", "lightgbm", "numpy"}


def test_redis_only_in_modules_named_for_it() -> None:
    users = importers(("redis",), "decision")
    assert {path for path in users if not Path(path).name.startswith("redis_")} == set()
