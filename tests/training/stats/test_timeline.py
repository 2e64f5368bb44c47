"""Cumulative lift by day: running totals, and the last day equal to the final analysis."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.stats.arm_comparison import SequentialSettings, compare_arms
from training.stats.timeline import cumulative_lift

SEQUENTIAL = SequentialSettings(alpha=0.05, planned_total_n=6_000)


def _rows(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 6_000
    day = pd.Timestamp("2025-03-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 5, n), unit="D")
    arm = rng.choice(["control", "b"], n)
    return pd.DataFrame({"segment": "all", "arm": arm, "day": day, "click": (rng.random(n) < 0.1).astype(float)})


def test_exposures_accumulate_and_the_last_day_equals_the_final_analysis() -> None:
    rows = _rows(1)
    timeline = cumulative_lift(rows, "click", "control", SEQUENTIAL)
    assert len(timeline) == 2 * 5
    b = timeline[timeline["arm"] == "b"]
    assert np.all(np.diff(b["exposures"]) > 0)
    assert b["exposures"].iloc[-1] == (rows["arm"] == "b").sum()
    values = {str(arm): part["click"].to_numpy() for arm, part in rows.groupby("arm")}
    final = compare_arms("all", values, "control", True, 0.05, SEQUENTIAL)[1]
    last = b.iloc[-1]
    assert last["abs_lift"] == pytest.approx(final["abs_lift"])
    assert (last["seq_low"], last["seq_high"]) == pytest.approx((final["seq_low"], final["seq_high"]))
    assert timeline.loc[timeline["arm"] == "control", "seq_low"].isna().all()


def test_a_day_without_exposures_carries_the_previous_totals() -> None:
    rows = _rows(2)
    rows = rows[~((rows["arm"] == "b") & (rows["day"] == rows["day"].min() + pd.Timedelta(days=2)))]
    b = cumulative_lift(rows, "click", "control", SEQUENTIAL).query("arm == 'b'")
    assert b["exposures"].iloc[2] == b["exposures"].iloc[1]
