"""Bayesian chance to beat control: the posterior probability that an arm's true value exceeds control's."""

from __future__ import annotations

import math

from scipy import integrate, stats

# Integration window: beyond these posterior tail masses the integrand is below double precision.
_TAIL = 1e-12


def chance_to_beat_control(successes: int, exposures: int, control_successes: int, control_exposures: int) -> float:
    """P(rate_arm > rate_control) with independent Beta(1, 1) priors, by numerical integration.

    P = integral of pdf_arm(x) * cdf_control(x) dx over [0, 1]. Integrating only where either
    posterior has mass (and telling `quad` where the peaks are) keeps it accurate when the
    posteriors are narrow (hundreds of thousands of exposures).
    """
    if exposures <= 0 or control_exposures <= 0:
        return math.nan
    arm = stats.beta(1 + successes, 1 + exposures - successes)
    control = stats.beta(1 + control_successes, 1 + control_exposures - control_successes)
    low = min(arm.ppf(_TAIL), control.ppf(_TAIL))
    high = max(arm.isf(_TAIL), control.isf(_TAIL))
    value, _ = integrate.quad(
        lambda x: arm.pdf(x) * control.cdf(x), low, high, points=[arm.mean(), control.mean()], limit=200, epsabs=1e-10
    )
    return min(max(float(value), 0.0), 1.0)


def normal_chance_to_beat_control(difference: float, standard_error: float) -> float:
    """P(mean_arm > mean_control) for means (revenue): the posterior under a flat prior and a normal
    likelihood for the difference, Phi(difference / se)."""
    if math.isnan(standard_error):
        return math.nan
    if standard_error == 0:
        return 0.5 if difference == 0 else float(difference > 0)
    return float(stats.norm.cdf(difference / standard_error))
