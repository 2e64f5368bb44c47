"""Rate intervals and rate comparisons against published values and scipy/statsmodels cross-checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from training.stats.proportions import compare_rates, estimate_rate, z_test_p_value, z_test_p_values

# Newcombe, "Two-sided confidence intervals for the single proportion: comparison of seven
# methods", Statistics in Medicine 17 (1998) 857-872, Table I: (x, n) -> Wilson, Clopper-Pearson.
NEWCOMBE_SINGLE = [
    (81, 263, (0.2553, 0.3662), (0.2527, 0.3676)),
    (15, 148, (0.0624, 0.1605), (0.0578, 0.1617)),
    (0, 20, (0.0, 0.1611), (0.0, 0.1684)),
    (1, 29, (0.0061, 0.1718), (0.0009, 0.1776)),
]
# Newcombe, "Interval estimation for the difference between independent proportions: comparison
# of eleven methods", Statistics in Medicine 17 (1998) 873-890, Table II, method 10 (score, no CC).
NEWCOMBE_DIFFERENCE = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
]


@pytest.mark.parametrize(("successes", "n", "wilson", "exact"), NEWCOMBE_SINGLE)
def test_rate_intervals_match_newcombes_published_table(
    successes: int, n: int, wilson: tuple[float, float], exact: tuple[float, float]
) -> None:
    estimate = estimate_rate(successes, n)
    assert estimate.rate == pytest.approx(successes / n)
    assert (estimate.wilson.low, estimate.wilson.high) == pytest.approx(wilson, abs=5e-5)
    assert (estimate.clopper_pearson.low, estimate.clopper_pearson.high) == pytest.approx(exact, abs=5e-5)


@pytest.mark.parametrize(("counts", "interval"), NEWCOMBE_DIFFERENCE)
def test_difference_interval_matches_newcombes_published_table(
    counts: tuple[int, int, int, int], interval: tuple[float, float]
) -> None:
    comparison = compare_rates(*counts)
    assert comparison.absolute == pytest.approx(counts[0] / counts[1] - counts[2] / counts[3])
    assert (comparison.absolute_interval.low, comparison.absolute_interval.high) == pytest.approx(interval, abs=5e-5)


def test_relative_lift_interval_is_the_log_ratio_interval() -> None:
    comparison = compare_rates(120, 2000, 100, 2000)
    ratio = (120 / 2000) / (100 / 2000)
    log_se = math.sqrt(1 / 120 - 1 / 2000 + 1 / 100 - 1 / 2000)  # Katz et al. (1978)
    z = stats.norm.ppf(0.975)
    assert comparison.relative == pytest.approx(0.2)
    assert comparison.relative_interval.low == pytest.approx(ratio * math.exp(-z * log_se) - 1)
    assert comparison.relative_interval.high == pytest.approx(ratio * math.exp(z * log_se) - 1)


def test_p_value_is_the_pearson_chi_square_test_of_the_two_by_two_table() -> None:
    comparison = compare_rates(130, 2000, 100, 2000)
    chi2 = stats.chi2_contingency([[130, 1870], [100, 1900]], correction=False)
    assert comparison.p_value == pytest.approx(chi2.pvalue)


def test_vectorised_z_test_agrees_with_statsmodels_look_by_look() -> None:
    rng = np.random.default_rng(4)
    n = rng.integers(50, 5000, 40).astype(float)
    control_n = rng.integers(50, 5000, 40).astype(float)
    successes = rng.binomial(n.astype(int), 0.05).astype(float)
    control_successes = rng.binomial(control_n.astype(int), 0.05).astype(float)
    vectorised = z_test_p_values(successes, n, control_successes, control_n)
    one_by_one = [
        z_test_p_value(int(s), int(m), int(cs), int(cm))
        for s, m, cs, cm in zip(successes, n, control_successes, control_n, strict=True)
    ]
    assert vectorised == pytest.approx(one_by_one)


def test_no_successes_anywhere_gives_p_one_and_no_relative_interval() -> None:
    comparison = compare_rates(0, 500, 0, 500)
    assert comparison.p_value == 1.0
    assert math.isnan(comparison.relative)
    assert math.isnan(comparison.relative_interval.low)
    assert z_test_p_values(np.array([0.0]), np.array([10.0]), np.array([0.0]), np.array([10.0]))[0] == 1.0


def test_an_arm_without_exposures_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="control: exposures must be positive"):
        compare_rates(3, 10, 0, 0)
    with pytest.raises(ValueError, match=r"successes must lie in \[0, exposures=10\]"):
        estimate_rate(11, 10)
