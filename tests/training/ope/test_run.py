"""run_ope against a known truth: a simulated bandit whose target policy value is computed exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.ope.logged import LoggedFeedback
from training.ope.policies import FixedActionPolicy
from training.ope.run import LOGGED, OpeConfig, run_ope
from training.ope.simulate import make_world, simulate_logs


def relative_error(estimate: float, truth: float) -> float:
    return abs(estimate - truth) / truth


def test_dr_and_snips_recover_the_exact_value_of_a_different_target_policy() -> None:
    world = make_world(seed=0)
    truth = world.value(world.target)
    result = run_ope(
        simulate_logs(world, 30_000, seed=1), world.policy(world.target, "candidate"), OpeConfig(replicates=300)
    )
    assert relative_error(result.estimate("DR").value, truth) <= 0.10
    assert relative_error(result.estimate("SNIPS").value, truth) <= 0.15
    assert relative_error(result.estimate(LOGGED).value, truth) > 0.25  # the bars are not met by ignoring the policy
    for name in ("IPS", "SNIPS", "DR"):
        estimate = result.estimate(name)
        assert estimate.low <= truth <= estimate.high, estimate
        assert estimate.flag == ""
    assert result.replicates == 300
    assert result.reward_model == "logistic regression, 3-fold cross-fitted"


def test_always_arm_b_from_an_ab_split_is_the_mean_reward_of_the_b_decisions() -> None:
    rng = np.random.default_rng(7)
    arm = rng.choice(["A", "B"], size=4_000)
    reward = (rng.random(4_000) < np.where(arm == "B", 0.08, 0.05)).astype(float)
    frame = pd.DataFrame({"segment": rng.choice(["new", "loyal"], 4_000), "arm": arm, "p": 0.5, "reward": reward})
    logged = LoggedFeedback.from_frame(
        frame,
        context_columns=["segment"],
        action_column="arm",
        propensity_column="p",
        reward_column="reward",
        source="ab",
    )
    result = run_ope(logged, FixedActionPolicy("B"), OpeConfig(estimators=("IPS", "SNIPS"), replicates=200))
    assert result.estimate("SNIPS").value == pytest.approx(reward[arm == "B"].mean())
    assert result.estimate("IPS").value == pytest.approx(2 * reward[arm == "B"].sum() / 4_000)
    assert result.estimate("IPS").effective_sample == pytest.approx((arm == "B").sum())
    assert result.reward_model == "none"
    assert list(result.frame()["estimator"]) == ["IPS", "SNIPS", LOGGED]


def test_an_unknown_estimator_is_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown estimator.s. MAGIC; choose from IPS, SNIPS, DM, DR"):
        OpeConfig(estimators=("IPS", "MAGIC"))
