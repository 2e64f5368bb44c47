"""Chance to beat control against a closed form, symmetry and a seeded Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from training.stats.bayes import chance_to_beat_control, normal_chance_to_beat_control


def _closed_form(successes: int, exposures: int, control_successes: int, control_exposures: int) -> float:
    """P(p_arm > p_control) for Beta posteriors with integer parameters (Evan Miller, "Formulas for
    Bayesian A/B testing", 2015): a finite sum over the arm's first parameter."""
    a_c, b_c = 1 + control_successes, 1 + control_exposures - control_successes
    a_t, b_t = 1 + successes, 1 + exposures - successes
    i = np.arange(a_t)
    terms = special.betaln(a_c + i, b_c + b_t) - np.log(b_t + i) - special.betaln(1 + i, b_t) - special.betaln(a_c, b_c)
    return float(np.exp(terms).sum())


@pytest.mark.parametrize("counts", [(5, 20, 3, 20), (0, 10, 2, 10), (12, 40, 12, 35), (30, 200, 18, 210)])
def test_matches_the_closed_form_for_small_counts(counts: tuple[int, int, int, int]) -> None:
    assert chance_to_beat_control(*counts) == pytest.approx(_closed_form(*counts), abs=1e-8)


def test_identical_data_give_one_half() -> None:
    assert chance_to_beat_control(50, 1000, 50, 1000) == pytest.approx(0.5, abs=1e-8)
    assert chance_to_beat_control(0, 10, 0, 10) == pytest.approx(0.5, abs=1e-8)


def test_agrees_with_a_seeded_monte_carlo_at_large_counts() -> None:
    rng = np.random.default_rng(5)
    draws = 400_000
    arm = rng.beta(1 + 5_200, 1 + 94_800, draws)
    control = rng.beta(1 + 5_000, 1 + 95_000, draws)
    assert chance_to_beat_control(5_200, 100_000, 5_000, 100_000) == pytest.approx((arm > control).mean(), abs=3e-3)


def test_normal_version_for_means() -> None:
    assert normal_chance_to_beat_control(0.0, 1.0) == pytest.approx(0.5)
    assert normal_chance_to_beat_control(1.96, 1.0) == pytest.approx(0.975, abs=1e-4)
    assert normal_chance_to_beat_control(0.3, 0.0) == 1.0


@pytest.mark.parametrize("counts", [(10, 100, 50_000, 1_000_000), (3, 10, 7_000, 10_000), (900, 10_000, 5, 40)])
def test_posteriors_of_very_different_widths_still_match_the_closed_form(counts: tuple[int, int, int, int]) -> None:
    assert chance_to_beat_control(*counts) == pytest.approx(_closed_form(*counts), abs=1e-7)
