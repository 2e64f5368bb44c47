"""Helpers for rule-tier tests: write rule files into tmp_path and compile or load them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from decision.tiers.rules.active import ActiveRuleset
from decision.tiers.rules.compiler import compile_path

DATA = Path(__file__).resolve().parents[3] / "data" / "rules"
NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)


def write(folder: Path, text: str, name: str = "rules.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def load() -> Iterator[object]:
    """load(path) -> ActiveRuleset registered in the real engine, unloaded after the test."""
    loaded: list[ActiveRuleset] = []

    def _load(path: Path) -> ActiveRuleset:
        active = ActiveRuleset(compile_path(path))
        loaded.append(active)
        return active

    yield _load
    for active in loaded:
        active.close()
