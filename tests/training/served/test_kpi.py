"""KPI figures against hand-computed rates, the Wilson formula, statsmodels and scipy."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from tests.training.served.logs import T0
from training.served.kpi import KPI_COLUMNS, kpi_table, read_for_kpi, timeline


def joined_frame() -> pd.DataFrame:
    """10 model decisions (3 clicked, 2 converted for 50 and 20), 4 rule decisions (1 clicked), 1 default."""
    n = 15
    frame = pd.DataFrame(
        {
            "decided_at": [T0 + pd.Timedelta(minutes=20 * i) for i in range(n)],
            "tier": ["model"] * 10 + ["rules"] * 4 + ["default"],
            "rule_id": [""] * 10 + ["promo", "promo", "promo", "optout"] + [""],
            "model_name": ["nbc"] * 10 + [""] * 5,
            "model_version": ["3"] * 10 + [""] * 5,
            "placement": ["home_banner"] * 8 + ["cart_page"] * 7,
            "segment": ["loyal"] * 5 + [""] * 10,
            "experiment_id": ["hero"] * 6 + [""] * 9,
            "experiment_version": ["2"] * 6 + [""] * 9,
            "arm": ["A", "A", "A", "B", "B", "B"] + [""] * 9,
            "clicked": [True, True, True] + [False] * 7 + [True] + [False] * 4,
            "converted": [True, True] + [False] * 13,
            "revenue": [50.0, 20.0] + [0.0] * 13,
        }
    )
    return frame


def wilson(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson score interval by its formula (Wilson 1927)."""
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def one(kpis: pd.DataFrame, dimension: str, value: str) -> pd.Series:
    rows = kpis[(kpis["dimension"] == dimension) & (kpis["value"] == value)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_rates_and_intervals_against_the_formula_and_statsmodels() -> None:
    kpis = kpi_table(joined_frame())
    overall = one(kpis, "all", "all")
    assert (overall["decisions"], overall["clicks"], overall["conversions"]) == (15, 4, 2)
    assert overall["click_rate"] == pytest.approx(4 / 15)
    assert (overall["click_low"], overall["click_high"]) == pytest.approx(wilson(4, 15))
    assert (overall["click_low"], overall["click_high"]) == pytest.approx(proportion_confint(4, 15, method="wilson"))
    model = one(kpis, "tier", "model")
    assert (model["conversion_rate"], model["revenue"]) == (0.2, 70.0)
    assert (model["conversion_low"], model["conversion_high"]) == pytest.approx(wilson(2, 10))
    assert one(kpis, "tier", "default")["click_high"] == pytest.approx(wilson(0, 1)[1])


def test_revenue_per_decision_has_the_student_t_interval() -> None:
    model = one(kpi_table(joined_frame()), "tier", "model")
    revenue = np.array([50.0, 20.0] + [0.0] * 8)
    assert model["revenue_per_decision"] == pytest.approx(7.0)
    expected = stats.t.interval(0.95, len(revenue) - 1, loc=revenue.mean(), scale=stats.sem(revenue))
    assert (model["revenue_low"], model["revenue_high"]) == pytest.approx(expected)
    single = one(kpi_table(joined_frame()), "tier", "default")
    assert math.isnan(single["revenue_low"])  # one decision: no interval for a mean


def test_each_dimension_labels_its_groups_and_leaves_out_decisions_it_does_not_apply_to() -> None:
    kpis = kpi_table(joined_frame())
    labels = {d: kpis.loc[kpis["dimension"] == d, "value"].tolist() for d in kpis["dimension"].unique()}
    assert labels == {
        "all": ["all"],
        "tier": ["default", "model", "rules"],
        "rule": ["optout", "promo"],
        "model": ["nbc v3"],
        "placement": ["cart_page", "home_banner"],
        "segment": ["(unknown)", "loyal"],
        "arm": ["hero v2: A", "hero v2: B"],
    }
    assert one(kpis, "arm", "hero v2: A")["click_rate"] == 1.0
    assert one(kpis, "rule", "promo")["decisions"] == 3
    only = kpi_table(joined_frame(), ["placement"])
    assert only["dimension"].tolist() == ["all", "placement", "placement"]


def test_refusals() -> None:
    with pytest.raises(ValueError, match=r"unknown KPI dimension\(s\) colour; choose from tier, rule, model"):
        kpi_table(joined_frame(), ["colour"])
    with pytest.raises(ValueError, match="the joined table has no decisions; nothing to report"):
        kpi_table(joined_frame().iloc[:0])


def test_timeline_counts_decisions_and_clicks_per_hour_and_tier() -> None:
    over_time = timeline(joined_frame())
    first_hour = over_time[over_time["bucket"] == T0]
    assert first_hour[["tier", "decisions", "clicks"]].values.tolist() == [["model", 3, 3]]
    assert over_time["decisions"].sum() == 15
    daily = timeline(joined_frame(), "D")
    assert daily[["tier", "decisions", "clicks"]].values.tolist() == [
        ["default", 1, 0],
        ["model", 10, 3],
        ["rules", 4, 1],
    ]


def test_only_the_kpi_columns_are_read(tmp_path: Path) -> None:
    frame = joined_frame().assign(user_key="a-user-key", decision_id="d")
    frame.to_parquet(tmp_path / "joined.parquet")
    read = read_for_kpi(tmp_path / "joined.parquet")
    assert tuple(read.columns) == KPI_COLUMNS
    assert "user_key" not in read.columns
    with pytest.raises(ValueError, match="no joined table here; write one with `training join`"):
        read_for_kpi(tmp_path / "missing.parquet")
    frame[["decision_id"]].to_parquet(tmp_path / "other.parquet")
    with pytest.raises(ValueError, match="not a joined table of `training join`"):
        read_for_kpi(tmp_path / "other.parquet")
