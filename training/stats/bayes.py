"""Bayesian chance to beat control: the posterior probability that an arm's true value exceeds control's."""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate, stats

# Posterior tail mass left out of the integration window (far below what is reported).
_TAIL = 1e-12
# Nodes across each posterior's window: Simpson's rule on them is exact to ~1e-9 even when
# one posterior is a hundred times narrower than the other (tested against a closed form).
_NODES = 2001


def chance_to_beat_control(successes: int, exposures: int, control_successes: int, control_exposures: int) -> float:
    """P(rate_arm > rate_control) with independent Beta(1, 1) priors, by numerical integration.

    P = integral of pdf_arm(x) * cdf_control(x) dx. Outside the arm posterior's central
    1 - 2e-12 the integrand is negligible, so the integral runs over that window only, on a grid
    that is also dense across the control posterior (its cdf may rise steeply inside the window).
    Vectorised: two scipy calls instead of thousands of scalar ones from an adaptive routine.
    """
    if exposures <= 0 or control_exposures <= 0:
        return math.nan
    arm = stats.beta(1 + successes, 1 + exposures - successes)
    control = stats.beta(1 + control_successes, 1 + control_exposures - control_successes)
    low, high = float(arm.ppf(_TAIL)), float(arm.isf(_TAIL))
    grid = np.union1d(
        np.linspace(low, high, _NODES), np.linspace(float(control.ppf(_TAIL)), float(control.isf(_TAIL)), _NODES)
    )
    grid = grid[(grid >= low) & (grid <= high)]
    value = float(integrate.simpson(arm.pdf(grid) * control.cdf(grid), x=grid))
    return min(max(value, 0.0), 1.0)


def normal_chance_to_beat_control(difference: float, standard_error: float) -> float:
    """P(mean_arm > mean_control) for means (revenue): the posterior under a flat prior and a normal
    likelihood for the difference, Phi(difference / se)."""
    if math.isnan(standard_error):
        return math.nan
    if standard_error == 0:
        return 0.5 if difference == 0 else float(difference > 0)
    return float(stats.norm.cdf(difference / standard_error))
