"""Factorial and segment × arm interaction tests find planted interactions and stay quiet without them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from training.stats.experiment_table import factorial_rows
from training.stats.factorial import analyze_factorial, segment_interaction
from training.stats.report import render_factorial


def _factorial_rows(seed: int, interaction: float, n: int = 12_000) -> pd.DataFrame:
    """Two factors, headline {plain, bold} × image {photo, drawing, none}; bold helps, and with
    `interaction` bold helps more with a drawing."""
    rng = np.random.default_rng(seed)
    headline = rng.choice(["plain", "bold"], n)
    image = rng.choice(["photo", "drawing", "none"], n)
    logit = -2.0 + 0.25 * (headline == "bold") + 0.1 * (image == "none")
    logit = logit + interaction * ((headline == "bold") & (image == "drawing"))
    return pd.DataFrame({"headline": headline, "image": image, "y": rng.random(n) < 1 / (1 + np.exp(-logit))})


def test_a_planted_interaction_is_found_and_named() -> None:
    result = analyze_factorial(
        _factorial_rows(1, interaction=0.5), ["headline", "image"], references={"headline": "plain", "image": "photo"}
    )
    assert result.interaction_test.df == 2
    assert result.interaction_test.p_value < 0.001
    planted = result.effects[result.effects["term"] == "headline=bold × image=drawing"].iloc[0]
    assert planted["kind"] == "interaction"
    assert float(planted["or_low"]) > 1
    assert planted["odds_ratio"] == pytest.approx(np.exp(0.5), rel=0.35)


def test_without_interaction_the_test_is_rarely_significant() -> None:
    significant = [
        analyze_factorial(_factorial_rows(seed, interaction=0.0), ["headline", "image"]).interaction_test.p_value < 0.05
        for seed in range(20)
    ]
    assert sum(significant) <= 3


def test_estimates_equal_the_row_level_logistic_regression() -> None:
    rows = _factorial_rows(2, interaction=0.3)
    result = analyze_factorial(rows, ["headline", "image"], references={"headline": "plain", "image": "photo"})
    reference = smf.logit(
        "y ~ C(headline, Treatment('plain')) * C(image, Treatment('photo'))", data=rows.assign(y=rows["y"].astype(int))
    ).fit(disp=0)
    # same term order: headline, image levels, then their products
    assert result.effects["coefficient"].to_numpy() == pytest.approx(reference.params.iloc[1:].to_numpy(), abs=1e-6)
    assert result.effects["p_value"].to_numpy() == pytest.approx(reference.pvalues.iloc[1:].to_numpy(), rel=1e-5)
    main = result.main_effects.set_index("term")
    assert list(main["kind"].unique()) == ["main"]
    assert float(main["odds_ratio"]["headline=bold"]) > 1


def test_a_cell_with_only_failures_is_refused_with_its_levels() -> None:
    rows = pd.DataFrame({"a": ["x", "x", "y", "y"], "b": ["u", "v", "u", "v"], "y": [1, 0, 0, 0]})
    rows = pd.concat([rows, rows.assign(y=[0, 1, 1, 0])], ignore_index=True)
    with pytest.raises(ValueError, match="cell a=y, b=v has only failures"):
        analyze_factorial(rows, ["a", "b"])


def _segment_rows(seed: int, effects: dict[str, float], n_per_segment: int = 8_000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for segment, effect in effects.items():
        arm = rng.choice(["control", "b"], n_per_segment)
        logit = -2.5 + effect * (arm == "b")
        parts.append(
            pd.DataFrame({"segment": segment, "arm": arm, "y": rng.random(n_per_segment) < 1 / (1 + np.exp(-logit))})
        )
    return pd.concat(parts, ignore_index=True)


def test_segment_interaction_finds_an_arm_that_works_in_one_segment_only() -> None:
    result = segment_interaction(_segment_rows(3, {"de-mobile": 0.6, "fr-desktop": 0.0, "us-app": 0.0}), "control")
    assert result.test.df == 2
    assert result.test.p_value < 0.001
    assert result.segments == ("de-mobile", "fr-desktop", "us-app")


def test_segment_interaction_is_rarely_significant_when_the_effect_is_the_same_everywhere() -> None:
    effects = {"de-mobile": 0.2, "fr-desktop": 0.2, "us-app": 0.2}
    significant = [
        segment_interaction(_segment_rows(seed, effects), "control").test.p_value < 0.05 for seed in range(20)
    ]
    assert sum(significant) <= 3


def test_segments_where_an_arm_never_succeeds_are_left_out_and_listed() -> None:
    rows = _segment_rows(4, {"a": 0.0, "b": 0.3})
    tiny = pd.DataFrame({"segment": "tiny", "arm": ["control", "b"], "y": [False, False]})
    result = segment_interaction(pd.concat([rows, tiny], ignore_index=True), "control")
    assert result.dropped == ("tiny",)
    assert result.segments == ("a", "b")


def test_rows_from_the_joined_table_feed_the_factorial_analysis() -> None:
    rows = _factorial_rows(5, interaction=0.0)
    texts = [json.dumps({"headline": h, "image": i}) for h, i in zip(rows["headline"], rows["image"], strict=True)]
    table = pd.DataFrame(
        {
            "experiment_id": "mvt-1",
            "arm": [f"{h}/{i}" for h, i in zip(rows["headline"], rows["image"], strict=True)],
            "segment": "",
            "decided_at": pd.Timestamp("2025-03-01", tz="UTC"),
            "clicked": rows["y"],
            "levels": texts,
        }
    )
    frame, factors = factorial_rows(table, "mvt-1", "click")
    result = analyze_factorial(frame, factors)
    direct = analyze_factorial(rows, ["headline", "image"])
    assert result.interaction_test.statistic == pytest.approx(direct.interaction_test.statistic)
    assert "LR test of all interactions" in render_factorial(result)
