"""Calibration and power of daily looks, simulated with fixed seeds (the bench runs the larger versions)."""

from __future__ import annotations

import numpy as np
import pytest

from training.stats.power import plan
from training.stats.simulation import aa_calibration, power_check


def test_aa_daily_looks_keep_the_sequential_false_positive_rate_while_the_z_test_inflates() -> None:
    result = aa_calibration(runs=200, days=21, users_per_day_per_arm=2_000, baseline_rate=0.05, alpha=0.05, seed=11)
    assert result.sequential_rate <= 0.08
    assert result.fixed_peeking_rate >= 0.12
    assert result.fixed_peeking_rate > 2 * result.sequential_rate
    # the curves only grow with more looks
    assert np.all(np.diff(result.fixed_by_day) >= 0)
    assert np.all(np.diff(result.sequential_by_day) >= 0)


def test_a_single_look_at_the_end_is_calibrated() -> None:
    result = aa_calibration(runs=1_000, days=3, users_per_day_per_arm=3_000, baseline_rate=0.05, alpha=0.05, seed=12)
    assert result.fixed_last_look_only == pytest.approx(0.05, abs=0.02)


def test_the_plan_detects_a_planted_lift_in_one_segment_with_the_requested_power() -> None:
    segments = 4
    prescribed = plan(0.05, 0.10, alpha=0.05, power=0.8, comparisons=segments + 1, daily_eligible=6_000)
    result = power_check(prescribed, segments=segments, runs=200, seed=13)
    assert result.days == prescribed.sequential_days
    assert result.detected >= 0.80
    assert result.null_segment_false_stops <= 0.05
    assert result.median_days_to_detect < prescribed.sequential_days


def test_half_the_planned_sample_is_not_enough() -> None:
    prescribed = plan(0.05, 0.10, alpha=0.05, power=0.8, comparisons=5, daily_eligible=6_000)
    half = power_check(prescribed, segments=4, runs=200, seed=14).detected_by_day[prescribed.sequential_days // 2 - 1]
    assert half < 0.6
