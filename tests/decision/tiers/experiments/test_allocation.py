"""Allocation modes: valid logged probability vectors, guard rails, and the bandit behaviour each mode promises."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from decision.tiers.experiments import allocation as allocation_module
from decision.tiers.experiments.allocation import (
    Allocation,
    AllocationMode,
    ArmProbabilities,
    ArmStats,
    BetaThompson,
    EpsilonGreedy,
    FixedWeights,
    GaussianThompson,
    Ucb1,
)
from tests.repo.test_boundaries import DECISION, imported_modules

MODES: dict[str, AllocationMode] = {
    "fixed": FixedWeights(),
    "epsilon": EpsilonGreedy(0.1),
    "ucb1": Ucb1(),
    "thompson": BetaThompson(draws=2_000),
    "gaussian": GaussianThompson(draws=2_000),
}


def clicks(exposures: int, rate: float) -> ArmStats:
    successes = round(exposures * rate)
    return ArmStats(exposures, successes, float(successes), float(successes))


arm_stats = st.builds(
    lambda n, share: clicks(n, share),
    st.integers(min_value=0, max_value=5_000),
    st.floats(min_value=0.0, max_value=1.0),
)


@settings(max_examples=60, deadline=None)
@given(
    mode=st.sampled_from(sorted(MODES)),
    arms=st.lists(arm_stats, min_size=2, max_size=8),
    floor=st.sampled_from([0.0, 0.01, 0.05]),
    warmup=st.sampled_from([0, 100]),
)
def test_every_mode_publishes_a_vector_summing_to_one_with_every_floor_held(
    mode: str, arms: list[ArmStats], floor: float, warmup: int
) -> None:
    weights = tuple(np.linspace(1.0, 2.0, len(arms)) / np.linspace(1.0, 2.0, len(arms)).sum())
    published = Allocation(MODES[mode], weights, floor, warmup).probabilities(arms)
    assert math.fsum(published.probabilities) == pytest.approx(1.0, abs=1e-12)
    assert min(published.probabilities) >= floor - 1e-12
    assert published.cumulative[-1] == 1.0


@pytest.mark.parametrize("mode", sorted(MODES))
def test_declared_weights_hold_until_every_arm_has_its_warmup_exposures(mode: str) -> None:
    allocation = Allocation(MODES[mode], (0.5, 0.3, 0.2), floor=0.01, warmup=100)
    cold = [clicks(5_000, 0.02), clicks(5_000, 0.20), clicks(99, 0.05)]
    assert allocation.probabilities(cold).probabilities == pytest.approx((0.5, 0.3, 0.2), abs=1e-12)
    warm = allocation.probabilities([*cold[:2], clicks(100, 0.05)]).probabilities
    if mode != "fixed":  # the mode takes over: one arm dominates (UCB1 explores the barely warm arm)
        assert max(warm) > 0.9


def test_declared_weights_below_the_floor_are_lifted_and_the_rest_scaled_in_proportion() -> None:
    published = Allocation(FixedWeights(), (0.6, 0.396, 0.004), floor=0.01).probabilities([ArmStats()] * 3)
    assert published.probabilities == pytest.approx((0.6 * 0.99 / 0.996, 0.396 * 0.99 / 0.996, 0.01))


def test_thompson_concentrates_on_the_best_arm_as_evidence_grows() -> None:
    allocation = Allocation.equal(BetaThompson(), 3, floor=0.01, warmup=100)
    best_share = [
        allocation.probabilities([clicks(n, 0.03), clicks(n, 0.05), clicks(n, 0.04)]).probabilities[1]
        for n in (100, 1_000, 10_000, 100_000)
    ]
    assert best_share == sorted(best_share)
    assert best_share[0] < 0.6
    assert best_share[-1] == pytest.approx(1.0 - 2 * 0.01, abs=1e-9)  # the others are down to their floor


def test_thompson_two_arm_probability_matches_exact_integration() -> None:
    a, b = (1 + 30, 1 + 970), (1 + 42, 1 + 958)
    exact, _ = integrate.quad(lambda x: stats.beta.pdf(x, *b) * stats.beta.cdf(x, *a), 0.0, 1.0)
    mode = BetaThompson(draws=40_000)
    estimated = mode.preferences([clicks(1_000, 0.030), clicks(1_000, 0.042)], (0.5, 0.5))[1]
    assert estimated == pytest.approx(exact, abs=4 * math.sqrt(exact * (1 - exact) / 40_000))


def test_thompson_is_a_pure_function_of_the_statistics() -> None:
    arms = [clicks(400, 0.05), clicks(400, 0.06)]
    allocation = Allocation.equal(BetaThompson(), 2)
    assert allocation.probabilities(arms) == allocation.probabilities(arms)


def test_gaussian_thompson_prefers_the_arm_with_more_revenue_per_exposure() -> None:
    rng = np.random.default_rng(5)
    arms = []
    for mean in (10.0, 12.0):
        revenue = rng.gamma(2.0, mean / 2.0, size=2_000)
        arms.append(ArmStats(2_000, 2_000, float(revenue.sum()), float((revenue**2).sum())))
    published = Allocation.equal(GaussianThompson(), 2).probabilities(arms)
    assert published.probabilities[1] > 0.95


def test_ucb1_puts_everything_but_the_floors_on_the_highest_upper_bound_not_the_best_mean() -> None:
    arms = [clicks(1_000, 0.10), clicks(100, 0.08), clicks(1_000, 0.02)]
    total = 2_100
    upper = [s.mean_reward + math.sqrt(2 * math.log(total) / s.exposures) for s in arms]
    assert int(np.argmax(upper)) == 1
    published = Allocation.equal(Ucb1(), 3, floor=0.01, warmup=100).probabilities(arms)
    assert published.probabilities == pytest.approx((0.01, 0.98, 0.01))
    greedy = Allocation.equal(EpsilonGreedy(0.1), 3, floor=0.01, warmup=100).probabilities(arms)
    assert greedy.probabilities == pytest.approx((0.1 / 3 + 0.9, 0.1 / 3, 0.1 / 3))


def test_choose_draws_arms_in_proportion_to_their_probabilities() -> None:
    published = ArmProbabilities.of([0.5, 0.3, 0.15, 0.04, 0.01])
    draws = 200_000
    uniforms = np.random.default_rng(11).random(draws)
    counts = np.bincount([published.choose(float(u)) for u in uniforms], minlength=5)
    result = stats.chisquare(counts, np.array(published.probabilities) * draws)
    assert result.pvalue > 0.001


def test_choose_covers_zero_to_one_and_never_picks_an_arm_without_probability() -> None:
    published = ArmProbabilities.of([0.25, 0.0, 0.75])
    assert published.choose(0.0) == 0
    assert published.choose(0.25) == 2
    assert published.choose(math.nextafter(1.0, 0.0)) == 2
    assert {published.choose(u / 1000) for u in range(1000)} == {0, 2}


@pytest.mark.parametrize("bad", [[], [0.0, 0.0], [0.5, -0.1], [math.nan, 1.0], [math.inf, 1.0]])
def test_a_vector_that_is_not_a_distribution_is_refused(bad: list[float]) -> None:
    with pytest.raises(ValueError, match="finite, >= 0 and not all zero"):
        ArmProbabilities.of(bad)


def test_an_allocation_whose_floors_cannot_fit_or_whose_arms_do_not_match_is_refused() -> None:
    with pytest.raises(ValueError, match=r"floor 0.3 x 4 arms"):
        Allocation.equal(FixedWeights(), 4, floor=0.3)
    with pytest.raises(ValueError, match="statistics for 2 arms, the allocation declares 3"):
        Allocation.equal(FixedWeights(), 3).probabilities([ArmStats(), ArmStats()])
    with pytest.raises(ValueError, match="more successes than exposures"):
        BetaThompson().preferences([ArmStats(1, 2, 2.0, 2.0), ArmStats()], (0.5, 0.5))


def test_stats_accumulate_and_report_their_mean() -> None:
    stats_ = ArmStats().observe(10, 2, 2.0, 2.0).observe(30, 1, 1.0, 1.0)
    assert stats_ == ArmStats(40, 3, 3.0, 3.0)
    assert stats_.mean_reward == pytest.approx(0.075)
    assert ArmStats().mean_reward == 0.0


def test_segments_get_their_own_vectors() -> None:
    allocation = Allocation.equal(Ucb1(), 2)
    published = allocation.by_segment(
        {"new": [clicks(500, 0.1), clicks(500, 0.01)], "loyal": [clicks(500, 0.01), clicks(500, 0.1)]}
    )
    assert published["new"].probabilities == pytest.approx((0.99, 0.01))
    assert published["loyal"].probabilities == pytest.approx((0.01, 0.99))


def test_the_module_needs_only_the_standard_library_and_numpy() -> None:
    path = DECISION / "tiers" / "experiments" / "allocation.py"
    assert path.resolve() == Path(allocation_module.__file__).resolve()
    roots = {name.split(".")[0] for name in imported_modules(path)}
    assert roots - sys.stdlib_module_names - {"numpy"} == set()
