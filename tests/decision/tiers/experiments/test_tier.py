"""The experiments tier in the pipeline: arms answer with provenance and probability; control passes."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from pathlib import Path

import pytest

from decision import metrics
from decision.domain import FallbackReason, Item, Provenance, Source
from decision.pipeline.context import RequestContext
from decision.pipeline.tier import Answer, TierResult
from decision.reload.specstore import SpecStore
from decision.tiers.experiments.casefile import compile_and_test
from decision.tiers.experiments.compiled import ExperimentSet
from decision.tiers.experiments.tier import ExperimentsTier
from tests.decision.tiers.experiments.conftest import context, write
from tests.fakes import FixedTier, decider

ARMS = """version: "{version}"
experiments:
  - id: hero
    placements: [home_banner]
    metric: click
    arms:
      - {{id: control, control: true, weight: 0.4}}
      - {{id: warm, content: [hero_warm, hero_alt], parameters: {{tone: warm}}, weight: 0.3}}
      - {{id: challenger, model: challenger, weight: 0.3}}
"""


class FakeModels:
    """An AliasRanking that ranks a fixed list for the aliases it follows."""

    def __init__(self) -> None:
        self.followed: dict[str, frozenset[str]] = {}

    def follow(self, owner: str, aliases: Collection[str]) -> None:
        self.followed[owner] = frozenset(aliases)

    def rank(self, alias: str, context: RequestContext) -> TierResult:
        if alias not in self.followed.get("experiments", frozenset()):
            return FallbackReason.NO_MODEL
        provenance = Provenance(model_name="nbc", model_version="7")
        return Answer(Source.MODEL, (Item("ranked-1", 0.9, 1), Item("ranked-2", 0.05, 2)), provenance)


def store(path: Path) -> SpecStore[ExperimentSet]:
    return SpecStore(
        path,
        compile_and_test,
        "experiment set",
        metrics.EXPERIMENTS_RELOADS,
        metrics.EXPERIMENTS_INFO,
        0.05,
        empty_means_none=True,
    )


@pytest.fixture
def tier(tmp_path: Path) -> Iterator[ExperimentsTier]:
    write(tmp_path, ARMS.format(version="v1"))
    experiments = ExperimentsTier(store(tmp_path), FakeModels())
    experiments.start(lambda: None)
    yield experiments
    experiments.stop()


def user_in(tier: ExperimentsTier, arm: str) -> str:
    current = tier.store.current
    assert current is not None
    (experiment,) = current.experiments
    index = [a.id for a in experiment.arms].index(arm)
    start, end = experiment.ranges[index]
    return next(u for u in (f"u{i}" for i in range(10_000)) if start <= experiment.point(u) < end)


def test_a_content_arm_answers_with_experiment_provenance_and_its_probability(tier: ExperimentsTier) -> None:
    answer = tier.decide(context(user_in(tier, "warm"), limit=5))
    assert isinstance(answer, Answer)
    assert answer.source is Source.EXPERIMENT
    assert [(i.content_id, i.rank, i.probability) for i in answer.items] == [
        ("hero_warm", 1, 0.3),
        ("hero_alt", 2, 0.3),
    ]
    assert answer.items[0].parameters == {"tone": "warm"}
    p = answer.provenance
    assert (p.experiment_id, p.experiment_version, p.arm, p.arm_probability) == ("hero", "v1", "warm", 0.3)
    assert len(p.experiment_hash) == 64


def test_the_control_arm_passes_and_the_next_tier_answers_in_the_experiment(tier: ExperimentsTier) -> None:
    model = FixedTier("model", ["m1"], provenance=Provenance(model_name="nbc", model_version="3"))
    decision = decider(tier, model).decide(context(user_in(tier, "control")).request)
    assert decision.source is Source.MODEL
    p = decision.provenance
    assert (p.experiment_id, p.arm, p.arm_probability, p.model_version) == ("hero", "control", 0.4, "3")
    assert p.fallback_reasons == (FallbackReason.EXPERIMENT_CONTROL,)


def test_a_model_arm_ranks_with_its_alias_which_the_tier_asked_the_pool_to_follow(tier: ExperimentsTier) -> None:
    answer = tier.decide(context(user_in(tier, "challenger"), limit=2))
    assert isinstance(answer, Answer)
    assert answer.source is Source.EXPERIMENT
    assert [(i.content_id, i.probability) for i in answer.items] == [("ranked-1", 0.3), ("ranked-2", 0.3)]
    assert (answer.provenance.arm, answer.provenance.model_version) == ("challenger", "7")


def test_outside_every_experiment_the_tier_passes(tier: ExperimentsTier) -> None:
    assert tier.decide(context(placement="email")) is FallbackReason.NO_EXPERIMENT


def test_a_broken_new_version_keeps_the_last_good_one_and_removing_the_files_stops_them(
    tier: ExperimentsTier, tmp_path: Path
) -> None:
    write(tmp_path, ARMS.format(version="v2").replace("metric: click", "metric: clik"))
    assert tier.store.reload() is not None
    current = tier.store.current
    assert current is not None
    assert current.version == "v1"
    write(tmp_path, ARMS.format(version="v3"))
    assert tier.store.reload() is None
    assert tier.store.current is not None
    assert tier.store.current.version == "v3"
    (tmp_path / "experiments.yaml").unlink()
    assert tier.store.reload() is None
    assert tier.store.current is None
    assert tier.decide(context()) is FallbackReason.NO_EXPERIMENT
