"""Assignment: sticky, weighted as declared, within coverage and namespace, consent-aware, targeted."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from scipy.stats import chisquare

from decision.domain import Cart
from decision.tiers.experiments.assign import assign, explain
from decision.tiers.experiments.compiled import ExperimentSet
from decision.tiers.experiments.compiler import compile_path
from tests.decision.tiers.experiments.conftest import NOW, context, write

USERS = [f"user-{i:05d}" for i in range(4000)]

CHAMPION_CHALLENGER = """version: "{version}"
experiments:
  - id: models
    {seed}
    placements: [home_banner]
    coverage: {coverage}
    metric: click
    arms:
      - {{id: content, content: [hero], weight: 0.2}}
      - {{id: control, control: true, weight: 0.3}}
      - {{id: challenger, model: challenger, weight: 0.5}}
"""


def compiled(tmp_path: Path, version: str = "v1", seed: str = "", coverage: float = 1.0) -> ExperimentSet:
    text = CHAMPION_CHALLENGER.format(version=version, seed=f"seed: {seed}" if seed else "", coverage=coverage)
    write(tmp_path, text)
    return compile_path(tmp_path)


def arms_of(experiments: ExperimentSet, **fields: object) -> dict[str, str | None]:
    found = {}
    for user in USERS:
        assignment = assign(experiments, context(user, **fields))  # type: ignore[arg-type]
        found[user] = assignment.arm.id if assignment else None
    return found


def test_arms_follow_the_declared_weights(tmp_path: Path) -> None:
    counts = Counter(arms_of(compiled(tmp_path)).values())
    observed = [counts["content"], counts["control"], counts["challenger"]]
    assert sum(observed) == len(USERS)
    assert chisquare(observed, [0.2 * len(USERS), 0.3 * len(USERS), 0.5 * len(USERS)]).pvalue > 0.001


def test_assignment_is_sticky_across_requests_and_file_versions_until_the_seed_changes(tmp_path: Path) -> None:
    first = arms_of(compiled(tmp_path / "a", version="v1"))
    assert arms_of(compiled(tmp_path / "a2", version="v1")) == first
    assert arms_of(compiled(tmp_path / "b", version="v2")) == first  # a new file version
    reseeded = arms_of(compiled(tmp_path / "c", version="v3", seed="fresh"))
    assert sum(first[u] != reseeded[u] for u in USERS) > len(USERS) / 3


def test_coverage_takes_that_share_of_users(tmp_path: Path) -> None:
    found = arms_of(compiled(tmp_path, coverage=0.3))
    inside = sum(arm is not None for arm in found.values())
    assert 0.27 < inside / len(USERS) < 0.33


def test_users_without_consent_never_get_a_personalized_arm(tmp_path: Path) -> None:
    experiments = compiled(tmp_path)
    probabilities = set()
    found = []
    for user in USERS:
        assignment = assign(experiments, context(user, consent=False))
        assert assignment is not None
        found.append(assignment.arm.id)
        probabilities.add((assignment.arm.id, round(assignment.probability, 6)))
    counts = Counter(found)
    assert counts["challenger"] == 0
    assert probabilities == {("content", 0.4), ("control", 0.6)}  # renormalized over the open arms
    assert chisquare([counts["content"], counts["control"]], [0.4 * len(USERS), 0.6 * len(USERS)]).pvalue > 0.001


TARGETED = """version: "v1"
experiments:
  - id: first
    placements: [home_banner]
    regions: [DE]
    segments: [loyal]
    when: {field: cart.item_count, op: ">", value: 0}
    active: {from: "2026-12-01T00:00:00Z", until: "2026-12-31T00:00:00Z"}
    namespace: {name: home, range: [0.0, 0.5]}
    metric: click
    arms: [{id: a, content: [x]}, {id: b, content: [y]}]
  - id: second
    placements: [home_banner]
    namespace: {name: home, range: [0.5, 1.0]}
    metric: click
    arms: [{id: c, content: [z]}, {id: d, content: [w]}]
"""


def test_targeting_and_namespaces(tmp_path: Path) -> None:
    write(tmp_path, TARGETED)
    experiments = compile_path(tmp_path)
    first = experiments.experiments[0]
    cart = {"cart": Cart(item_count=2)}
    in_first = [u for u in USERS if explain(first, context(u, segment="loyal", **cart))[0] is not None]  # type: ignore[arg-type]
    assert 0.45 < len(in_first) / len(USERS) < 0.55  # its half of the namespace
    user = in_first[0]
    targeted = {"segment": "loyal", **cart}
    assert explain(first, context(user, **targeted))[1] == "assigned"  # type: ignore[arg-type]
    assert explain(first, context(user, region="US", **targeted))[1] == "region not targeted"  # type: ignore[arg-type]
    assert explain(first, context(user, segment="new", **cart))[1] == "segment not targeted"  # type: ignore[arg-type]
    assert explain(first, context(user, segment="loyal"))[1] == "condition does not hold"
    later = NOW + timedelta(days=30)
    assert explain(first, context(user, now=later, **targeted))[1] == "ended"  # type: ignore[arg-type]
    for u in USERS[:500]:  # mutually exclusive: no user is in both
        a = explain(first, context(u, **targeted))[0]  # type: ignore[arg-type]
        b = explain(experiments.experiments[1], context(u, **targeted))[0]  # type: ignore[arg-type]
        assert a is None or b is None


@pytest.mark.parametrize("placement", ["email", "cart_page"])
def test_other_placements_are_never_assigned(tmp_path: Path, placement: str) -> None:
    assert assign(compiled(tmp_path), context(placement=placement)) is None
