"""The planner against statsmodels, R's published example, and its own simulation."""

from __future__ import annotations

import math

import pytest
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from training.stats.power import plan
from training.stats.sequential import critical_z_at_plan


def test_fixed_horizon_matches_rs_published_power_prop_test_example() -> None:
    # R documentation of stats::power.prop.test: power.prop.test(p1 = .50, p2 = .75, power = .90)  ## => n = 76.7
    result = plan(0.50, 0.50, alpha=0.05, power=0.90)
    assert result.target_rate == pytest.approx(0.75)
    assert result.fixed_users_per_arm == 77


def test_fixed_horizon_equals_statsmodels_with_the_bonferroni_alpha() -> None:
    result = plan(0.05, 0.10, alpha=0.05, power=0.8, comparisons=4)
    effect = proportion_effectsize(0.055, 0.05)
    expected = NormalIndPower().solve_power(effect_size=effect, alpha=0.05 / 4, power=0.8, ratio=1.0)
    assert result.adjusted_alpha == pytest.approx(0.0125)
    assert result.fixed_users_per_arm == math.ceil(expected)


def test_sequential_needs_more_users_and_says_so() -> None:
    result = plan(0.05, 0.10, comparisons=5, daily_eligible=20_000)
    assert result.sequential_critical_z == pytest.approx(critical_z_at_plan(0.01))
    # the cost of peeking: ((z_seq + z_power) / (z_fixed + z_power))^2 ≈ 1.67 at alpha 0.01, power 0.8
    assert result.sequential_users_per_arm / result.fixed_users_per_arm == pytest.approx(1.67, abs=0.01)
    assert result.planned_total_n == 2 * result.sequential_users_per_arm
    table = result.table()
    assert list(table["design"]) == ["fixed horizon (one look)", "sequential (daily looks)"]
    assert list(table["users_per_arm"]) == [result.fixed_users_per_arm, result.sequential_users_per_arm]


def test_days_follow_from_traffic_coverage_and_arms() -> None:
    result = plan(0.05, 0.10, arms=3, daily_eligible=12_000, coverage=0.5)
    per_arm_per_day = 12_000 * 0.5 / 3
    assert result.fixed_days == math.ceil(result.fixed_users_per_arm / per_arm_per_day)
    assert result.sequential_days == math.ceil(result.sequential_users_per_arm / per_arm_per_day)


def test_bad_inputs_are_named() -> None:
    with pytest.raises(ValueError, match=r"baseline_rate must lie in \(0, 1\), got 1.5"):
        plan(1.5, 0.1)
    with pytest.raises(
        ValueError, match=r"arms \(control included\) must be >= 2, got 1; coverage must lie in \(0, 1\], got 0"
    ):
        plan(0.05, 0.1, coverage=0, arms=1)
    with pytest.raises(ValueError, match="must stay below 1"):
        plan(0.6, 1.0)
