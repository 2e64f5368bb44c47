"""Experiment files: a valid set compiles; every problem is refused with file, line, experiment and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from decision.conditions.errors import SpecFileError
from decision.tiers.experiments.casefile import compile_and_test
from decision.tiers.experiments.compiler import compile_path
from decision.tiers.experiments.design import combinations
from tests.decision.tiers.experiments.conftest import write

REPO = Path(__file__).resolve().parents[4]

VALID = """version: "v1"
experiments:
  - id: hero
    placements: [home_banner]
    metric: click
    arms:
      - {id: control, control: true}
      - {id: warm, content: [hero_warm], parameters: {tone: warm}}
"""


def refused(tmp_path: Path, text: str) -> str:
    write(tmp_path, text)
    with pytest.raises(SpecFileError, match=r"experiments\.yaml") as error:
        compile_path(tmp_path)
    return str(error.value)


def test_a_valid_set_compiles_with_equal_weights_and_its_own_hash(tmp_path: Path) -> None:
    write(tmp_path, VALID)
    compiled = compile_path(tmp_path)
    (experiment,) = compiled.experiments
    assert (compiled.version, len(compiled.content_hash)) == ("v1", 64)
    assert experiment.weights == (0.5, 0.5)
    assert experiment.ranges == ((0.0, 0.5), (0.5, 1.0))
    assert experiment.seed == "hero"  # the id, unless a seed is given: assignments survive new versions
    assert experiment.arms[1].parameters == {"tone": "warm"}


def test_the_shipped_examples_compile_and_pass_their_own_tests() -> None:
    compiled = compile_and_test(REPO / "experiments" / "examples")
    assert {e.id for e in compiled.experiments} == {"home_hero_copy", "home_copy_factors"}


WARM = "{id: warm, content: [hero_warm], parameters: {tone: warm}}"
PROBLEMS = {
    "misspelt key": (
        ("metric: click", "metirc: click"),
        "experiments.yaml:5: experiment hero: unknown key 'metirc' (did you mean 'metric'?)",
    ),
    "some weights": (
        ("{id: control, control: true}", "{id: control, control: true, weight: 0.3}"),
        "give every arm a weight, or none",
    ),
    "repeated arm": (("{id: warm, content:", "{id: control, content:"), "arm ids must be unique; repeated: control"),
    "two controls": ((WARM, "{id: warm, control: true}"), "at most one arm may be control"),
    "arm of no kind": ((WARM, "{id: warm}"), "give exactly one of control: true, content: [...] or model: <alias>"),
    "no version": (('version: "v1"\n', ""), "missing version"),
    "unknown field": (
        ("metric: click", "metric: click\n    when: {field: context.regoin, op: ==, value: DE}"),
        "unknown field 'context.regoin' (did you mean 'context.region'?)",
    ),
    "window backwards": (
        ("metric: click", "metric: click\n    active: {from: 2026-12-02T00:00:00Z, until: 2026-12-01T00:00:00Z}"),
        "ends before it starts",
    ),
    "unknown metric": (
        ("metric: click", "metric: clicks"),
        "'experiments.metric': Input should be 'click', 'conversion' or 'revenue'",
    ),
}


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_problems_are_refused_with_their_location(tmp_path: Path, name: str) -> None:
    change, expected = PROBLEMS[name]
    assert expected in refused(tmp_path, VALID.replace(*change))


def test_weights_must_add_up(tmp_path: Path) -> None:
    text = VALID.replace("{id: control, control: true}", "{id: control, control: true, weight: 0.7}")
    text = text.replace("parameters: {tone: warm}}", "parameters: {tone: warm}, weight: 0.7}")
    assert "arm weights add up to 1.4, not 1" in refused(tmp_path, text)


def test_experiments_sharing_a_namespace_need_disjoint_ranges(tmp_path: Path) -> None:
    second = VALID.split("experiments:\n", 1)[1].replace("id: hero", "id: hero_two")
    text = (VALID + second).replace("metric: click", "metric: click\n    namespace: {name: home, range: [0.0, 0.6]}")
    assert "namespace 'home' range overlaps experiment hero's" in refused(tmp_path, text)


def test_a_file_whose_own_test_fails_is_refused(tmp_path: Path) -> None:
    text = (
        VALID
        + """tests:
  - name: expects an experiment that does not exist
    request: {placement: home_banner, user_id: u1, consent: true}
    expect: {experiment: elsewhere}
"""
    )
    write(tmp_path, text)
    with pytest.raises(SpecFileError, match="test 'expects an experiment that does not exist' failed"):
        compile_and_test(tmp_path)


def test_a_half_fraction_keeps_the_baseline_and_half_the_combinations() -> None:
    factors = {"tone": ["plain", "warm"], "image": ["product", "life"], "cta": ["shop", "discover"]}
    half = combinations(factors, "half")
    assert len(half) == 4
    assert {"tone": "plain", "image": "product", "cta": "shop"} in half
    assert len(combinations(factors, "full")) == 8
    for factor, levels in factors.items():  # balanced: each level in half of the arms
        assert sum(c[factor] == levels[0] for c in half) == 2


def test_a_half_fraction_needs_two_level_factors(tmp_path: Path) -> None:
    text = """version: "v1"
experiments:
  - id: mv
    placements: [home_banner]
    metric: click
    factorial:
      factors: {tone: [a, b, c], image: [x, y], cta: [p, q]}
      design: half
      content: [hero]
"""
    assert "a half fraction needs exactly two levels per factor" in refused(tmp_path, text)
