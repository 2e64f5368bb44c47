"""The bootstrap: known moments of both methods, the grouping of identical rows, the replicate budget."""

from __future__ import annotations

import numpy as np
import pytest

from training.ope.bootstrap import MIN_REPLICATES, bootstrap_sums, percentile_interval, replicate_count


def test_poisson_replicate_sums_have_the_moments_sum_x_and_sum_x_squared() -> None:
    rng = np.random.default_rng(0)
    columns = np.column_stack([rng.integers(0, 3, 10_000), rng.integers(0, 10, 10_000) / 10.0]).astype(float)
    boot = bootstrap_sums(columns, seed=1, wanted=2_000)
    assert (boot.method, boot.replicates, boot.distinct_rows) == ("poisson", 2_000, 30)
    se_of_mean = np.sqrt((columns**2).sum(axis=0) / boot.replicates)
    assert boot.sums.mean(axis=0) == pytest.approx(columns.sum(axis=0), abs=4 * se_of_mean.max())
    assert boot.sums.var(axis=0, ddof=1) == pytest.approx((columns**2).sum(axis=0), rel=0.1)


def test_mostly_distinct_rows_get_the_multinomial_bootstrap_with_its_moments() -> None:
    columns = np.random.default_rng(4).gamma(2.0, 1.0, (10_000, 2))
    boot = bootstrap_sums(columns, seed=1, wanted=2_000)
    assert (boot.method, boot.replicates, boot.distinct_rows) == ("multinomial", 2_000, 10_000)
    # n draws with replacement: the sum's mean is sum x, its variance n * (population variance of x)
    spread = len(columns) * columns.var(axis=0)
    assert boot.sums.mean(axis=0) == pytest.approx(columns.sum(axis=0), abs=4 * np.sqrt(spread.max() / 2_000))
    assert boot.sums.var(axis=0, ddof=1) == pytest.approx(spread, rel=0.1)


def test_identical_rows_are_resampled_as_a_group_with_the_same_moments() -> None:
    columns = np.repeat(np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 1.0]]), [50_000, 30_000, 20_000], axis=0)
    boot = bootstrap_sums(columns, seed=2, wanted=4_000)
    assert boot.distinct_rows == 3
    assert boot.sums.mean(axis=0) == pytest.approx(columns.sum(axis=0), rel=0.002)
    assert boot.sums.var(axis=0, ddof=1) == pytest.approx((columns**2).sum(axis=0), rel=0.08)


def test_the_same_seed_gives_the_same_replicates() -> None:
    columns = np.random.default_rng(3).random((1_000, 2))
    first, second = bootstrap_sums(columns, seed=9), bootstrap_sums(columns, seed=9)
    assert np.array_equal(first.sums, second.sums)
    assert not np.array_equal(first.sums, bootstrap_sums(columns, seed=10).sums)


def test_many_distinct_rows_get_fewer_replicates_but_never_fewer_than_the_minimum() -> None:
    assert replicate_count(10_000) == 1_000
    assert replicate_count(100_000, max_draws=30_000_000) == 300
    assert replicate_count(5_000_000) == MIN_REPLICATES


def test_percentile_interval_ignores_nan_replicates() -> None:
    low, high = percentile_interval(np.r_[np.arange(1.0, 1002.0), np.nan], 0.9)
    assert (low, high) == pytest.approx((51.0, 951.0))
