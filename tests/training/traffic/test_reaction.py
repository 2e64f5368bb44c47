"""Sampled reactions: they agree with the truth, repeat with the seed, and share random numbers across runs."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from training.generate import SEGMENTS
from training.traffic.ground_truth import GroundTruth
from training.traffic.moment import MomentStream
from training.traffic.population import SIMULATION_START, draw_population
from training.traffic.reaction import Reactions
from training.truth import CONTENT_VOCAB

DECISIONS = 20_000


def test_observed_click_rates_per_segment_agree_with_the_truth() -> None:
    """Each segment's click rate lies in the Wilson 99 % interval around its mean true probability's rate.

    The item shown is drawn uniformly from the catalog at each decision, so every segment
    sees a spread of true probabilities.
    """
    truth, reactions = GroundTruth(), Reactions(seed=21, slots=1)
    pick = np.random.default_rng(22)
    stream = MomentStream(draw_population(3_000, 21), 21, SIMULATION_START, 7.0)
    clicks: dict[str, int] = defaultdict(int)
    probabilities: dict[str, list[float]] = defaultdict(list)
    for index, (user, moment) in enumerate(stream.take(DECISIONS)):
        p = float(truth.catalog_click_probabilities(user, moment)[pick.integers(len(CONTENT_VOCAB))])
        clicks[user.segment] += reactions.react(index, (p,), 0.0).clicked[0]
        probabilities[user.segment].append(p)
    assert set(clicks) == set(SEGMENTS)
    for segment, ps in probabilities.items():
        low, high = proportion_confint(clicks[segment], len(ps), alpha=0.01, method="wilson")
        assert low <= float(np.mean(ps)) <= high, segment


def test_conversions_follow_their_probability_and_only_after_a_click() -> None:
    reactions = Reactions(seed=5, slots=2)
    results = [reactions.react(i, (0.5, 0.5), 0.2) for i in range(20_000)]
    clicked = [r for r in results if any(r.clicked)]
    converted = [r for r in clicked if r.converted_rank is not None]
    low, high = proportion_confint(len(converted), len(clicked), alpha=0.01, method="wilson")
    assert low <= 0.2 <= high
    assert all(r.converted_rank is None and r.value == 0.0 for r in results if not any(r.clicked))
    assert all(r.clicked[r.converted_rank - 1] and r.value > 0 for r in converted if r.converted_rank)
    assert all(r.converted_rank == r.clicked.index(True) + 1 for r in converted)


def test_the_same_seed_gives_the_same_reactions() -> None:
    def run(seed: int) -> list[object]:
        reactions = Reactions(seed, slots=3)
        return [reactions.react(i, (0.3, 0.2, 0.1), 0.5) for i in range(2_000)]

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_each_decision_gets_the_same_random_numbers_whatever_came_before() -> None:
    """Common random numbers: a run that showed other items (or none) before decision i reacts alike at i."""
    one, other = Reactions(9, slots=2), Reactions(9, slots=2)
    for i in range(500):
        one.react(i, (0.4,), 0.9)
        other.react(i, (0.1, 0.05) if i % 2 else (), 0.9)
    assert [one.react(i, (0.5, 0.5), 0.9) for i in range(500, 900)] == [
        other.react(i, (0.5, 0.5), 0.9) for i in range(500, 900)
    ]


def test_more_items_than_slots_is_refused() -> None:
    with pytest.raises(ValueError, match="3 items shown, more than the 2 slots"):
        Reactions(1, slots=2).react(0, (0.1, 0.1, 0.1), 0.0)
