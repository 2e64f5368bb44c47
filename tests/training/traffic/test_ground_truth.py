"""The ground truth: the documented formula on the generator's utility, planted lifts exactly where planted."""

from __future__ import annotations

import itertools
import math
from datetime import timedelta

import numpy as np
import pytest
from scipy.special import expit, logit, softmax

from training.generate import SEGMENTS, START, World
from training.traffic.ground_truth import (
    CART_SHARE,
    OTHER_CONTENT_RATE,
    SEGMENT_BASE_RATE,
    SLOPE,
    GroundTruth,
    position_discount,
)
from training.traffic.lift import Lift
from training.traffic.moment import Moment, MomentStream
from training.traffic.population import SIMULATION_START, SimUser, draw_population
from training.truth import CONTENT_VOCAB

OTHER_CONTENT = ("home_welcome", "cart_reminder_premium", "generic_home_hero")


@pytest.fixture(scope="module")
def decisions() -> list[tuple[SimUser, Moment]]:
    """400 (user, moment) pairs across segments, placements, hours and carts."""
    users = draw_population(400, 3)
    return MomentStream(users, 3, SIMULATION_START, 7.0).take(400)


def test_the_utility_is_the_generators_for_the_same_world_seed() -> None:
    truth, world = GroundTruth(world_seed=9), World(9)
    assert np.array_equal(truth.truth.base, world.truth.base)
    assert np.array_equal(truth.truth.region, world.truth.region)
    assert truth.catalog.to_json() == world.catalog.to_json()


def test_click_probability_is_the_documented_formula(decisions: list[tuple[SimUser, Moment]]) -> None:
    truth = GroundTruth(world_seed=7)
    for user, moment in decisions[:50]:
        share = softmax(truth.truth.utility(truth.state(user, moment)))
        expected = expit(logit(SEGMENT_BASE_RATE[user.segment]) + SLOPE * np.log(len(CONTENT_VOCAB) * share))
        got = [truth.click_probability(user, c, moment) for c in CONTENT_VOCAB]
        np.testing.assert_allclose(got, expected, rtol=1e-12)
        np.testing.assert_allclose(truth.catalog_click_probabilities(user, moment), expected, rtol=1e-12)


def test_the_same_world_seed_gives_the_same_truth_and_another_a_different_one(
    decisions: list[tuple[SimUser, Moment]],
) -> None:
    one, same, other = GroundTruth(7), GroundTruth(7), GroundTruth(8)
    for user, moment in decisions[:20]:
        assert np.array_equal(
            one.catalog_click_probabilities(user, moment), same.catalog_click_probabilities(user, moment)
        )
        assert not np.allclose(
            one.catalog_click_probabilities(user, moment), other.catalog_click_probabilities(user, moment)
        )


def test_click_rates_are_realistic_and_differ_by_segment(decisions: list[tuple[SimUser, Moment]]) -> None:
    """Average content 1-5 %, the user's favourite 5-20 %; better segments click more."""
    truth = GroundTruth()
    by_segment: dict[str, list[tuple[float, float]]] = {s: [] for s in SEGMENTS}
    for user, moment in decisions:
        p = truth.catalog_click_probabilities(user, moment)
        by_segment[user.segment].append((float(p.mean()), float(p.max())))
    means = {s: np.mean(v, axis=0) for s, v in by_segment.items()}
    for average, best in means.values():
        assert 0.01 <= average <= 0.05
        assert 0.05 <= best <= 0.20
    assert means["loyal"][0] > means["casual"][0] > means["lapsed"][0]


def test_a_planted_lift_changes_exactly_the_planted_content_in_the_planted_segment(
    decisions: list[tuple[SimUser, Moment]],
) -> None:
    plain = GroundTruth()
    planted = GroundTruth(lifts=[Lift("home-3", "loyal", 0.10), Lift("home_welcome", "new", 0.5)])
    seen = set()
    for (user, moment), content_id in itertools.product(decisions, (*CONTENT_VOCAB, *OTHER_CONTENT)):
        ratio = planted.click_probability(user, content_id, moment) / plain.click_probability(user, content_id, moment)
        if (content_id, user.segment) == ("home-3", "loyal"):
            assert ratio == pytest.approx(1.10, rel=1e-12)
        elif (content_id, user.segment) == ("home_welcome", "new"):
            assert ratio == pytest.approx(1.5, rel=1e-12)
        else:
            assert ratio == 1.0
        seen.add((content_id, user.segment))
    assert {("home-3", "loyal"), ("home_welcome", "new")} <= seen


def test_content_the_truth_does_not_know_gets_the_segments_fixed_rate(decisions: list[tuple[SimUser, Moment]]) -> None:
    truth = GroundTruth()
    for user, moment in decisions[:50]:
        for content_id in OTHER_CONTENT:
            assert truth.click_probability(user, content_id, moment) == OTHER_CONTENT_RATE[user.segment]
    user, moment = decisions[0]
    elsewhere = Moment("kiosk_screen", moment.at)
    assert truth.click_probability(user, "home-3", elsewhere) == OTHER_CONTENT_RATE[user.segment]
    assert truth.best(user, elsewhere) == (None, 0.0)


def test_lower_ranks_are_discounted_as_in_dcg(decisions: list[tuple[SimUser, Moment]]) -> None:
    truth = GroundTruth()
    user, moment = decisions[0]
    first = truth.click_probability(user, "home-3", moment)
    assert truth.click_probability(user, "home-3", moment, rank=3) == pytest.approx(first / 2.0)
    assert truth.click_probabilities(user, ["home-3", "home-3"], moment) == (first, first / math.log2(3))
    with pytest.raises(ValueError, match="ranks start at 1"):
        position_discount(0)


def test_the_best_content_is_the_likeliest_click_among_the_eligible(decisions: list[tuple[SimUser, Moment]]) -> None:
    truth = GroundTruth()
    for user, moment in decisions[:100]:
        best_id, best_p = truth.best(user, moment)
        eligible = truth.catalog.eligible(moment.placement, user.region, moment.at)
        assert best_id in eligible
        assert best_p == max(truth.click_probability(user, c, moment) for c in eligible)


def test_the_best_content_is_judged_eligible_by_the_servers_clock(decisions: list[tuple[SimUser, Moment]]) -> None:
    """Content with an active window (the generator's content 4 of some categories) runs from January to
    spring; a server deciding in February may show it, one deciding in December may not."""
    truth = GroundTruth()
    windowed = {c.content_id for c in truth.catalog.items if c.active_until is not None}
    assert windowed
    february, december = START + timedelta(days=35), START + timedelta(days=340)
    best_in_february = {truth.best(user, moment, eligible_at=february)[0] for user, moment in decisions}
    best_in_december = {truth.best(user, moment, eligible_at=december)[0] for user, moment in decisions}
    assert best_in_february & windowed
    assert not best_in_december & windowed


def test_conversion_follows_the_generators_purchase_probability() -> None:
    for user in draw_population(50, 2):
        assert GroundTruth.conversion_probability(user) == CART_SHARE * SEGMENTS[user.segment][2]


def test_the_truth_moves_with_the_moment(decisions: list[tuple[SimUser, Moment]]) -> None:
    """Same user, other hour or other placement: other probabilities (the utility reads both)."""
    truth = GroundTruth()
    user, moment = decisions[0]
    later = Moment(moment.placement, moment.at + timedelta(hours=12))
    other_place = Moment("email" if moment.placement != "email" else "home_banner", moment.at)
    base = truth.catalog_click_probabilities(user, Moment(moment.placement, moment.at))
    assert not np.allclose(base, truth.catalog_click_probabilities(user, later))
    assert not np.allclose(base, truth.catalog_click_probabilities(user, other_place))
