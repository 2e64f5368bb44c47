"""The off-policy promotion gate on simulated champion traffic with planted click rates (seeds fixed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.ope.gate import GateError, champion_decisions, ope_gate
from training.ope.run import OpeConfig

ITEMS = ("a", "b", "c", "d")
REGIONS = ("DE", "US", "JP")
#: True click rate of each item per region: "a" is the champion's pick, "c" the best in DE and US.
RATES = {
    "DE": {"a": 0.05, "b": 0.04, "c": 0.09, "d": 0.02},
    "US": {"a": 0.06, "b": 0.05, "c": 0.10, "d": 0.03},
    "JP": {"a": 0.07, "b": 0.03, "c": 0.07, "d": 0.02},
}
CONFIG = OpeConfig(replicates=200, seed=1)


def champion_traffic(n: int, epsilon: float, seed: int = 0) -> pd.DataFrame:
    """The champion always prefers "a"; with probability epsilon the shown item is drawn uniformly."""
    rng = np.random.default_rng(seed)
    region = rng.choice(REGIONS, n)
    explore = rng.random(n) < epsilon
    shown = np.where(explore, rng.choice(ITEMS, n), "a")
    probability = np.where(shown == "a", 1 - epsilon + epsilon / len(ITEMS), epsilon / len(ITEMS))
    rate = np.array([RATES[r][i] for r, i in zip(region, shown, strict=True)])
    return pd.DataFrame(
        {
            "placement": "home_banner",
            "region": region,
            "device": "mobile",
            "channel": "web",
            "segment": "",
            "source": "MODEL",
            "model_name": "nbc",
            "model_version": "1",
            "content_id": shown,
            "item_probability": probability,
            "reward": (rng.random(n) < rate).astype(float),
        }
    )


def best_per_region(decisions: pd.DataFrame) -> list[str]:
    return [max(RATES[r], key=RATES[r].__getitem__) for r in decisions["region"]]


def test_a_better_challenger_passes_and_the_verdict_shows_every_figure() -> None:
    decisions = champion_traffic(40_000, epsilon=0.3, seed=1)
    choices = best_per_region(decisions)
    verdict = ope_gate(decisions, choices, ["a"] * len(decisions), "DR", config=CONFIG)
    true_challenger = np.mean([RATES[r][c] for r, c in zip(decisions["region"], choices, strict=True)])
    true_champion = np.mean([RATES[r]["a"] for r in decisions["region"]])
    assert verdict.challenger.low <= true_challenger <= verdict.challenger.high
    assert verdict.champion.low <= true_champion <= verdict.champion.high
    assert verdict.logged.value < verdict.champion.value + 0.01  # exploring costs the champion a little
    assert verdict.passed, verdict.reason
    text = verdict.summary("nbc v2", "nbc v1")
    for figure in (verdict.challenger.low, verdict.champion.value, verdict.logged.value):
        assert f"{figure:.4f}" in text
    assert "passed" in text


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_copy_of_the_champion_does_not_pass_although_it_beats_the_explored_logs(seed: int) -> None:
    decisions = champion_traffic(40_000, epsilon=0.3, seed=seed)
    same = ["a"] * len(decisions)
    verdict = ope_gate(decisions, same, same, "DR", config=CONFIG)
    assert verdict.challenger.value > verdict.logged.value  # the trap a logged-value-only gate falls into
    assert not verdict.passed
    assert "failed" in verdict.reason


def test_a_worse_challenger_fails() -> None:
    decisions = champion_traffic(40_000, epsilon=0.3)
    verdict = ope_gate(decisions, ["d"] * len(decisions), ["a"] * len(decisions), "SNIPS", config=CONFIG)
    assert verdict.challenger.high < verdict.champion.low
    assert not verdict.passed


def test_traffic_logged_without_exploration_fails_closed_and_says_how_to_fix_it() -> None:
    decisions = champion_traffic(5_000, epsilon=0.0)
    verdict = ope_gate(decisions, best_per_region(decisions), ["a"] * len(decisions), config=CONFIG)
    assert verdict.explored == 0
    assert not verdict.passed
    assert "DECISION_MODEL_EXPLORATION" in verdict.reason


def test_too_little_traffic_is_flagged_and_fails() -> None:
    decisions = champion_traffic(300, epsilon=0.3)
    verdict = ope_gate(decisions, best_per_region(decisions), ["a"] * len(decisions), config=CONFIG)
    assert verdict.challenger.flag
    assert not verdict.passed
    assert "too thin" in verdict.reason


def test_only_the_champions_own_model_decisions_are_evaluated() -> None:
    decisions = champion_traffic(100, epsilon=0.3)
    others = decisions.head(10).assign(source="RULE", model_name="", model_version="")
    older = decisions.head(5).assign(model_version="0")
    mine = champion_decisions(pd.concat([decisions, others, older]), "nbc", "1")
    assert len(mine) == 100
    with pytest.raises(GateError, match="no decisions of nbc v7"):
        champion_decisions(decisions, "nbc", "7")
    with pytest.raises(GateError, match="lacks reward"):
        champion_decisions(decisions.drop(columns="reward"), "nbc", "1")


def test_bad_arguments_are_refused_with_what_to_do() -> None:
    decisions = champion_traffic(100, epsilon=0.3)
    with pytest.raises(GateError, match="unknown estimator 'XY'"):
        ope_gate(decisions, ["a"] * 100, ["a"] * 100, "XY")
    with pytest.raises(GateError, match="99 challenger and 100 champion choices for 100 decisions"):
        ope_gate(decisions, ["a"] * 99, ["a"] * 100)
