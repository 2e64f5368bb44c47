"""Always-valid intervals for an arm's difference from control (asymptotic confidence sequences).

A fixed-horizon interval is valid at one look; looked at every day, some day's interval
excludes 0 by chance far more often than alpha. A confidence sequence holds at every n at
once, so the experiment may be read daily and stopped as soon as it excludes 0.

Formula: Waudby-Smith, Arbour, Sinha, Kennedy and Ramdas, "Time-uniform central limit theory
and asymptotic confidence sequences" (Annals of Statistics 2024, arXiv:2103.06476), eq. 9,
as GrowthBook's stats engine implements it (packages/stats/gbstats/frequentist/tests.py,
`sequential_interval_halfwidth` and `sequential_rho`):

    estimate ± sigma * sqrt( 2 (n rho² + 1) / (n² rho²) * log( sqrt(n rho² + 1) / alpha ) )

where n counts the units of both groups and sigma² = n * se² is the per-unit variance of the
estimate. Since sigma = se * sqrt(n), the half-width is se times `multiplier` below. rho sets
where the sequence is tightest; for a planned total n* (eq. 161 of the paper):

    rho² = ( -2 log alpha + log(-2 log alpha + 1) ) / n*

At n = n*, n rho² no longer depends on n*, so the multiplier there is a constant of alpha
(`critical_z_at_plan`: 3.04 at alpha 0.05 against 1.96 for one look); `training.stats.power`
sizes sequential experiments with it.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from training.stats.comparison import Interval

FloatArray = npt.NDArray[np.float64]

# GrowthBook's default planned total sample when none is given.
DEFAULT_PLANNED_TOTAL = 5_000


def rho_squared(planned_total_n: float, alpha: float) -> float:
    if planned_total_n <= 0:
        raise ValueError(f"planned total sample must be positive, got {planned_total_n}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    log_term = -2 * math.log(alpha)
    return (log_term + math.log(log_term + 1)) / planned_total_n


def multiplier(n_total: npt.ArrayLike, planned_total_n: float, alpha: float) -> FloatArray:
    """The half-width in standard errors at n units (both groups): the sequential 'z'."""
    n = np.asarray(n_total, dtype=np.float64)
    scaled = n * rho_squared(planned_total_n, alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.sqrt(2 * (scaled + 1) / scaled * np.log(np.sqrt(scaled + 1) / alpha)), dtype=np.float64)


def critical_z_at_plan(alpha: float) -> float:
    """The multiplier at the planned sample itself (independent of that sample's size)."""
    return float(multiplier(1.0, 1.0, alpha))


def sequential_bounds(
    estimate: npt.ArrayLike, standard_error: npt.ArrayLike, n_total: npt.ArrayLike, planned_total_n: float, alpha: float
) -> tuple[FloatArray, FloatArray]:
    """Lower and upper bounds over arrays (every day of a timeline, every simulated run)."""
    centre = np.asarray(estimate, dtype=np.float64)
    halfwidth = multiplier(n_total, planned_total_n, alpha) * np.asarray(standard_error, dtype=np.float64)
    return centre - halfwidth, centre + halfwidth


def confidence_sequence(
    estimate: float, standard_error: float, n_total: int, planned_total_n: float, alpha: float
) -> Interval:
    """The always-valid interval of one comparison at its current sample (NaN before any data)."""
    if n_total <= 0 or math.isnan(standard_error):
        return Interval.undefined()
    low, high = sequential_bounds(estimate, standard_error, n_total, planned_total_n, alpha)
    return Interval(float(low), float(high))


def difference_from_sums(
    n: FloatArray,
    total: FloatArray,
    total_squares: FloatArray,
    control_n: FloatArray,
    control_total: FloatArray,
    control_total_squares: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Difference of means and its unpooled standard error from running sums (for 0/1 data the sum of
    squares equals the sum). NaN where a group has no units yet."""
    with np.errstate(divide="ignore", invalid="ignore"):
        mean, control_mean = total / n, control_total / control_n
        variance = np.maximum(total_squares / n - mean**2, 0.0)
        control_variance = np.maximum(control_total_squares / control_n - control_mean**2, 0.0)
        standard_error = np.sqrt(variance / n + control_variance / control_n)
    return np.asarray(mean - control_mean, dtype=np.float64), np.asarray(standard_error, dtype=np.float64)
