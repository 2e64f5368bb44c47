"""Revenue per exposure: Welch's interval and test, cross-checked against statsmodels."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from training.stats.means import compare_means, estimate_mean


def _revenue(rng: np.random.Generator, n: int, conversion: float, mean_value: float) -> np.ndarray:
    converted = rng.random(n) < conversion
    return np.where(converted, rng.exponential(mean_value, n), 0.0)


def test_difference_interval_and_p_value_match_statsmodels_welch() -> None:
    rng = np.random.default_rng(7)
    arm, control = _revenue(rng, 4000, 0.03, 45.0), _revenue(rng, 3000, 0.02, 40.0)
    comparison = compare_means(arm, control)
    reference = CompareMeans(DescrStatsW(arm), DescrStatsW(control))
    low, high = reference.tconfint_diff(usevar="unequal")
    _, p_value, _ = reference.ttest_ind(usevar="unequal")
    assert comparison.absolute == pytest.approx(arm.mean() - control.mean())
    assert (comparison.absolute_interval.low, comparison.absolute_interval.high) == pytest.approx((low, high))
    assert comparison.p_value == pytest.approx(p_value)
    assert comparison.standard_error == pytest.approx(reference.std_meandiff_separatevar)


def test_relative_interval_covers_the_point_estimate_and_uses_the_log_scale() -> None:
    rng = np.random.default_rng(8)
    comparison = compare_means(_revenue(rng, 5000, 0.03, 50.0), _revenue(rng, 5000, 0.03, 40.0))
    low, high = comparison.relative_interval.low, comparison.relative_interval.high
    assert low < comparison.relative < high
    # symmetric on the log scale, so asymmetric around the lift itself
    assert math.log1p(comparison.relative) - math.log1p(low) == pytest.approx(
        math.log1p(high) - math.log1p(comparison.relative)
    )


def test_mean_interval_matches_statsmodels_t_interval() -> None:
    values = _revenue(np.random.default_rng(9), 2000, 0.05, 30.0)
    estimate = estimate_mean(values)
    assert (estimate.interval.low, estimate.interval.high) == pytest.approx(DescrStatsW(values).tconfint_mean())


def test_constant_data_have_a_zero_width_answer_instead_of_a_warning() -> None:
    comparison = compare_means(np.zeros(100), np.zeros(100))
    assert comparison.absolute == 0.0
    assert comparison.p_value == 1.0
    assert estimate_mean(np.zeros(10)).interval.high == 0.0


def test_fewer_than_two_values_are_refused() -> None:
    with pytest.raises(ValueError, match="control: a mean's interval needs at least 2 exposures, got 1"):
        compare_means(np.ones(5), np.ones(1))
