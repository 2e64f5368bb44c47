"""The cross-fitted reward model: it learns click rates, and never scores a decision with a model that saw it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.ope.logged import LoggedFeedback
from training.ope.reward_model import cross_fitted_rewards
from training.ope.simulate import make_world, simulate_logs


def test_predictions_recover_the_true_click_rates_and_the_target_expectation() -> None:
    world = make_world(0)
    logged = simulate_logs(world, 60_000, seed=4)
    # the logged contexts come in order of first appearance: line them up with the world's
    order = logged.contexts.merge(world.contexts.reset_index(), how="left")["index"].to_numpy()
    rates = world.click_rate[order]
    predictions = cross_fitted_rewards(logged, world.target[order], folds=3, seed=0)
    truth_logged = rates[logged.context_index, logged.action]
    truth_target = (world.target[order] * rates).sum(axis=1)[logged.context_index]
    assert predictions.kind == "logistic"
    assert np.corrcoef(predictions.q_logged, truth_logged)[0, 1] > 0.9
    # the world's three-way logit term is beyond an additive model: per context it is off by ~10 %, on average by less
    assert np.abs(predictions.q_target - truth_target).mean() < 0.02
    assert predictions.q_target.mean() == pytest.approx(truth_target.mean(), rel=0.05)


def test_a_decision_is_scored_by_a_model_that_never_saw_its_own_reward() -> None:
    logged = simulate_logs(make_world(0), 6_000, seed=5)
    target = np.full((len(logged.contexts), len(logged.actions)), 1.0 / len(logged.actions))
    before = cross_fitted_rewards(logged, target, folds=3, seed=0)
    flipped = logged.reward.copy()
    flipped[17] = 1.0 - flipped[17]
    changed = LoggedFeedback(**{**logged.__dict__, "reward": flipped})
    after = cross_fitted_rewards(changed, target, folds=3, seed=0)
    assert after.q_logged[17] == before.q_logged[17]
    assert after.q_target[17] == before.q_target[17]
    assert not np.array_equal(after.q_logged, before.q_logged)  # the other folds' models did see it


def test_real_valued_rewards_get_a_ridge_model_and_a_fold_without_clicks_a_constant() -> None:
    frame = pd.DataFrame(
        {
            "segment": ["a", "b"] * 300,
            "action": ["x", "y", "y", "x"] * 150,
            "p": 0.5,
            "revenue": [0.0, 5.0, 2.0, 1.0] * 150,
        }
    )
    logged = LoggedFeedback.from_frame(
        frame,
        context_columns=["segment"],
        action_column="action",
        propensity_column="p",
        reward_column="revenue",
        source="t",
    )
    target = np.full((2, 2), 0.5)
    ridge = cross_fitted_rewards(logged, target, folds=2)
    assert ridge.kind == "ridge"
    assert ridge.q_logged[:4] == pytest.approx([0.0, 5.0, 2.0, 1.0], abs=0.05)
    silent = LoggedFeedback(**{**logged.__dict__, "reward": np.zeros(600)})
    constant = cross_fitted_rewards(silent, target, folds=2)
    assert constant.kind == "logistic"
    assert np.all(constant.q_logged == 0.0)
