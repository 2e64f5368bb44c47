"""Confidence sequences: GrowthBook's published test values, tuning, and the width they cost."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from training.stats.sequential import (
    confidence_sequence,
    critical_z_at_plan,
    difference_from_sums,
    multiplier,
    sequential_bounds,
)


def _relative_lift(
    mean: float, variance: float, n: int, control_mean: float, control_variance: float, control_n: int
) -> tuple[float, float]:
    """Relative lift and its delta-method standard error, as GrowthBook's tests feed its interval."""
    lift = mean / control_mean - 1
    se = math.sqrt(variance / (n * control_mean**2) + control_variance * mean**2 / (control_n * control_mean**4))
    return lift, se


def test_reproduces_growthbooks_sequential_interval_for_proportions() -> None:
    # growthbook packages/stats/tests/frequentist/test_tests.py::test_sequential_test_runs_prop:
    # ProportionStatistic(sum=1396, n=3000) vs (sum=2422, n=3461), default tuning 5000 -> (0.40098, 0.60675)
    control, arm = 1396 / 3000, 2422 / 3461
    lift, se = _relative_lift(arm, arm * (1 - arm), 3461, control, control * (1 - control), 3000)
    interval = confidence_sequence(lift, se, 3000 + 3461, 5000, 0.05)
    assert (interval.low, interval.high) == pytest.approx((0.40098, 0.60675), abs=1e-5)


def test_reproduces_growthbooks_sequential_interval_for_means() -> None:
    # test_sequential_test_runs: SampleMeanStatistic(sum=1396.87, sum_squares=52377.9767, n=3000) vs
    # (2422.7, 134698.29, 3461), tuning 1000 -> (-0.55844, 1.56516)
    def moments(total: float, squares: float, n: int) -> tuple[float, float]:
        return total / n, (squares - total**2 / n) / (n - 1)

    control_mean, control_variance = moments(1396.87, 52377.9767, 3000)
    mean, variance = moments(2422.7, 134698.29, 3461)
    lift, se = _relative_lift(mean, variance, 3461, control_mean, control_variance, 3000)
    interval = confidence_sequence(lift, se, 6461, 1000, 0.05)
    assert (interval.low, interval.high) == pytest.approx((-0.55844, 1.56516), abs=1e-5)


def test_the_sequence_is_tightest_near_the_planned_sample() -> None:
    n = 20_000
    at_plan = multiplier(n, n, 0.05)
    assert at_plan < multiplier(n, 10 * n, 0.05)
    assert at_plan < multiplier(n, n / 10, 0.05)


def test_critical_value_at_the_plan_is_a_constant_of_alpha_above_the_fixed_one() -> None:
    for planned in (1_000, 50_000, 3_000_000):
        assert multiplier(planned, planned, 0.05) == pytest.approx(critical_z_at_plan(0.05))
    assert critical_z_at_plan(0.05) == pytest.approx(3.0352, abs=1e-4)
    assert critical_z_at_plan(0.05) > stats.norm.isf(0.025)
    assert critical_z_at_plan(0.01) > critical_z_at_plan(0.05)


def test_bounds_from_running_sums_equal_the_two_sample_formula() -> None:
    difference, se = difference_from_sums(
        np.array([1000.0]), np.array([70.0]), np.array([70.0]), np.array([900.0]), np.array([45.0]), np.array([45.0])
    )
    assert difference[0] == pytest.approx(0.07 - 0.05)
    assert se[0] == pytest.approx(math.sqrt(0.07 * 0.93 / 1000 + 0.05 * 0.95 / 900))
    low, high = sequential_bounds(difference, se, 1900, 1900, 0.05)
    assert (high - low)[0] == pytest.approx(2 * critical_z_at_plan(0.05) * se[0])


def test_before_any_data_the_interval_is_undefined() -> None:
    assert math.isnan(confidence_sequence(0.0, math.nan, 0, 5000, 0.05).low)
    with pytest.raises(ValueError, match="planned total sample must be positive, got 0"):
        multiplier(100, 0, 0.05)
