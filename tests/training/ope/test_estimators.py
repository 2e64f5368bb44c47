"""The estimator formulas against hand-computed answers, statsmodels, and repeated simulation."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.weightstats import DescrStatsW

from training.ope.estimators import (
    direct_method,
    doubly_robust,
    effective_sample_size,
    importance_weights,
    ips,
    logged_mean,
    snips,
    thin_data_flag,
)

REWARD = np.array([1.0, 0.0, 1.0, 0.0])
PROPENSITY = np.array([0.5, 0.25, 0.5, 1.0])
TARGET = np.array([1.0, 0.5, 0.25, 0.0])
Q_LOGGED = np.array([0.4, 0.2, 0.6, 0.1])
Q_TARGET = np.array([0.5, 0.3, 0.4, 0.2])


def test_every_estimator_matches_its_formula_worked_by_hand() -> None:
    weights = importance_weights(TARGET, PROPENSITY)
    assert weights.tolist() == [2.0, 2.0, 0.5, 0.0]
    assert ips(REWARD, weights).value == pytest.approx((2.0 + 0.5) / 4)
    assert snips(REWARD, weights).value == pytest.approx(2.5 / 4.5)
    assert direct_method(Q_TARGET).value == pytest.approx(1.4 / 4)
    dr = (0.5 + 2 * 0.6) + (0.3 + 2 * -0.2) + (0.4 + 0.5 * 0.4) + 0.2
    assert doubly_robust(REWARD, weights, Q_LOGGED, Q_TARGET).value == pytest.approx(dr / 4)
    assert logged_mean(REWARD).value == 0.5


def test_mean_estimators_have_the_standard_error_statsmodels_gives_a_mean() -> None:
    rng = np.random.default_rng(1)
    reward = (rng.random(5_000) < 0.1).astype(float)
    weights = rng.lognormal(0.0, 1.0, 5_000)
    assert ips(reward, weights).standard_error == pytest.approx(DescrStatsW(weights * reward).std_mean, rel=1e-9)


def test_snips_delta_method_se_matches_the_spread_over_repeated_logs() -> None:
    rng = np.random.default_rng(2)
    repeats, n = 2_000, 2_000
    propensity = rng.uniform(0.05, 0.5, (repeats, n))
    weights = 0.2 / propensity
    reward = (rng.random((repeats, n)) < 0.05 + 0.2 * propensity).astype(float)
    values = (weights * reward).sum(axis=1) / weights.sum(axis=1)
    reported = np.mean([snips(reward[i], weights[i]).standard_error for i in range(200)])
    assert reported == pytest.approx(values.std(ddof=1), rel=0.08)


def test_ips_and_dr_are_unbiased_and_dr_tighter_with_a_good_reward_model() -> None:
    rng = np.random.default_rng(3)
    repeats, n, actions = 1_000, 1_000, 4
    rates = np.array([0.1, 0.3, 0.6, 0.9])  # far apart: most of IPS variance is between actions, which DR removes
    logging = np.array([0.4, 0.3, 0.2, 0.1])
    target = np.array([0.1, 0.1, 0.3, 0.5])
    truth = float(target @ rates)
    action = rng.choice(actions, size=(repeats, n), p=logging)
    reward = (rng.random((repeats, n)) < rates[action]).astype(float)
    weights = target[action] / logging[action]
    ips_values = [ips(reward[i], weights[i]).value for i in range(repeats)]
    q_target = np.full(n, truth)
    dr_values = [doubly_robust(reward[i], weights[i], rates[action[i]], q_target).value for i in range(repeats)]
    assert np.mean(ips_values) == pytest.approx(truth, abs=4 * np.std(ips_values) / np.sqrt(repeats))
    assert np.mean(dr_values) == pytest.approx(truth, abs=4 * np.std(dr_values) / np.sqrt(repeats))
    assert np.std(dr_values) < 0.8 * np.std(ips_values)


def test_effective_sample_size_counts_equal_weights_fully_and_one_heavy_weight_as_one() -> None:
    assert effective_sample_size(np.full(50, 3.0)) == pytest.approx(50.0)
    assert effective_sample_size(np.r_[1e6, np.full(99, 1e-3)]) == pytest.approx(1.0, abs=1e-6)
    assert effective_sample_size(np.array([1.0, 2.0, 3.0])) == pytest.approx(36 / 14)
    assert effective_sample_size(np.zeros(3)) == 0.0


def test_thin_data_is_flagged_with_its_reasons() -> None:
    heavy = np.r_[1e4, np.ones(999)]
    reward = np.r_[np.ones(5), np.zeros(995)]
    assert thin_data_flag(heavy, reward) == "ESS 1.2 < 100; 5 positive rewards with weight > 0 < 10"
    assert thin_data_flag(np.ones(1_000), np.r_[np.ones(20), np.zeros(980)]) == ""
    zero_where_clicked = np.r_[np.zeros(20), np.ones(980)]
    assert thin_data_flag(zero_where_clicked, np.r_[np.ones(20), np.zeros(980)]).startswith("0 positive rewards")
