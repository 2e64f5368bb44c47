"""Every `tests:` entry of the shipped rules/ folder is one pytest case (id `file::case`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from decision.tiers.rules import casefile
from decision.tiers.rules.active import ActiveRuleset
from decision.tiers.rules.compiled import Case
from decision.tiers.rules.compiler import compile_path

RULES = Path(__file__).resolve().parents[2] / "rules"
COMPILED = compile_path(RULES)


@pytest.fixture(scope="module")
def active() -> Iterator[ActiveRuleset]:
    loaded = ActiveRuleset(COMPILED)
    yield loaded
    loaded.close()


@pytest.mark.parametrize("case", COMPILED.cases, ids=[c.case_id for c in COMPILED.cases])
def test_shipped_case(active: ActiveRuleset, case: Case) -> None:
    result = casefile.run_case(active, case)
    assert result.passed, result.why


def test_every_shipped_rule_is_exercised_by_a_case() -> None:
    expected = {c.spec.expect.rule for c in COMPILED.cases}
    assert {rule.id for rule in COMPILED.rules} - expected == set()
