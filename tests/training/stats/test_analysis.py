"""The whole analysis over a joined table with planted effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.training.stats.synthetic import joined_table
from training.stats.analysis import ExperimentAnalysis, analyze
from training.stats.multiple import adjust_p_values

WEIGHTS = {"control": 0.5, "b": 0.5}
SEGMENTS = ("de-mobile", "fr-desktop", "")


def _rates(lift_in_de: float) -> dict[tuple[str, str], float]:
    rates = {(segment, arm): 0.05 for segment in SEGMENTS for arm in ("control", "b")}
    rates[("de-mobile", "b")] = 0.05 * (1 + lift_in_de)
    return rates


@pytest.fixture(scope="module")
def planted() -> pd.DataFrame:
    return joined_table(_rates(0.3), decisions_per_day=1_500, days=14, seed=1)


@pytest.fixture(scope="module")
def analysis(planted: pd.DataFrame) -> ExperimentAnalysis:
    return analyze(
        planted,
        "exp-1",
        "click",
        "control",
        WEIGHTS,
        planned_users_per_arm=20_000,
        guardrails=("conversion", "revenue"),
    )


def test_the_planted_segment_stops_with_its_winner_and_the_null_ones_do_not(analysis: ExperimentAnalysis) -> None:
    verdicts = analysis.verdicts.set_index("segment")
    assert list(verdicts.index) == ["all", "(unknown)", "de-mobile", "fr-desktop"]
    assert verdicts.loc["de-mobile", "verdict"] == "stop: b wins"
    assert verdicts.loc["de-mobile", "winner"] == "b"
    for segment in ("fr-desktop", "(unknown)"):
        assert verdicts.loc[segment, "winner"] == ""
        assert verdicts.loc[segment, "verdict"] == "stop: no effect"  # 21,000 per arm ≥ the planned 20,000


def test_family_and_sequential_alpha_follow_the_segments(analysis: ExperimentAnalysis) -> None:
    assert analysis.family_size == 4  # all + 3 segments, one treatment arm
    assert analysis.sequential_alpha == pytest.approx(0.05 / 4)
    treated = analysis.arms[analysis.arms["arm"] == "b"]
    assert treated["p_adjusted"].to_numpy() == pytest.approx(adjust_p_values(treated["p_value"].to_numpy(), "holm"))
    assert analysis.arms.loc[analysis.arms["arm"] == "control", "p_adjusted"].isna().all()


def test_arm_rows_hold_every_figure(analysis: ExperimentAnalysis) -> None:
    de = analysis.arms[(analysis.arms["segment"] == "de-mobile") & (analysis.arms["arm"] == "b")].iloc[0]
    assert de["exposures"] == 21_000
    assert de["rel_low"] < 0.3 < de["rel_high"]
    assert de["seq_low"] > 0
    assert de["seq_low"] < de["abs_low"]
    assert de["chance_to_beat"] > 0.999
    for column in ("estimate_low", "exact_low", "abs_low", "rel_low", "p_value", "p_adjusted", "seq_low"):
        assert column in analysis.arms.columns


def test_sample_ratio_timeline_guardrails_and_interaction_are_filled(analysis: ExperimentAnalysis) -> None:
    assert not analysis.sample_ratio["mismatch"].any()
    assert set(analysis.timeline["segment"]) == {"all", "(unknown)", "de-mobile", "fr-desktop"}
    assert analysis.timeline["day"].nunique() == 14
    assert set(analysis.guardrails["metric"]) == {"conversion", "revenue"}
    assert analysis.interaction is not None
    assert analysis.interaction.test.p_value < 0.01


def test_wrong_weights_are_a_sample_ratio_mismatch(planted: pd.DataFrame) -> None:
    result = analyze(planted, "exp-1", "click", "control", {"control": 0.6, "b": 0.4})
    assert result.sample_ratio["mismatch"].all()


def test_an_aa_experiment_names_no_winner_and_revenue_works() -> None:
    table = joined_table({(s, a): 0.05 for s in ("x", "y") for a in ("control", "b")}, 1_000, 10, seed=2)
    result = analyze(table, "exp-1", "revenue", "control", WEIGHTS, correction="bh")
    assert set(result.verdicts["verdict"]) == {"continue"}
    assert result.interaction is None
    assert np.isnan(result.arms["exact_low"]).all()


def test_errors_name_what_is_wrong(planted: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=r"control arm 'a' has no decisions in 'exp-1'; arms seen: \['b', 'control'\]"):
        analyze(planted, "exp-1", "click", "a", WEIGHTS)
    with pytest.raises(ValueError, match=r"arms \['b'\] of 'exp-1' are missing from weights"):
        analyze(planted, "exp-1", "click", "control", {"control": 1.0})
    with pytest.raises(ValueError, match="metric 'click' is also listed as a guardrail"):
        analyze(planted, "exp-1", "click", "control", WEIGHTS, guardrails=("click",))
    with pytest.raises(ValueError, match=r"alpha must lie in \(0, 1\), got 5"):
        analyze(planted, "exp-1", "click", "control", WEIGHTS, alpha=5)


def test_three_arms_widen_the_family_and_name_the_best_winner() -> None:
    rates = {("x", "control"): 0.05, ("x", "b"): 0.065, ("x", "c"): 0.08}
    rates |= {("y", arm): 0.05 for arm in ("control", "b", "c")}
    table = joined_table(rates, 1_500, 10, seed=4)
    result = analyze(table, "exp-1", "click", "control", {"control": 1, "b": 1, "c": 1}, correction="bonferroni")
    assert result.family_size == 3 * 2
    assert list(result.arms.loc[result.arms["segment"] == "x", "arm"]) == ["control", "b", "c"]
    verdicts = result.verdicts.set_index("segment")["verdict"]
    assert verdicts["x"] == "stop: c wins"
    assert verdicts["y"] == "continue"
    assert {"n_control", "n_b", "n_c"} <= set(result.sample_ratio.columns)
