"""Rates (clicks, conversions per exposure): their intervals and their comparison with control."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint, proportions_ztest

from training.stats.comparison import Comparison, Interval

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RateEstimate:
    """A rate with the Wilson interval (good coverage near 0) and the exact Clopper-Pearson one."""

    rate: float
    wilson: Interval
    clopper_pearson: Interval


def _check_counts(successes: int, exposures: int, name: str) -> None:
    if exposures <= 0:
        raise ValueError(f"{name}: exposures must be positive, got {exposures}; an arm without exposures has no rate")
    if not 0 <= successes <= exposures:
        raise ValueError(f"{name}: successes must lie in [0, exposures={exposures}], got {successes}")


def estimate_rate(successes: int, exposures: int, alpha: float = 0.05) -> RateEstimate:
    _check_counts(successes, exposures, "rate")
    wilson = proportion_confint(successes, exposures, alpha=alpha, method="wilson")
    exact = proportion_confint(successes, exposures, alpha=alpha, method="beta")
    return RateEstimate(
        rate=successes / exposures,
        wilson=Interval(float(wilson[0]), float(wilson[1])),
        clopper_pearson=Interval(float(exact[0]), float(exact[1])),
    )


def compare_rates(
    successes: int, exposures: int, control_successes: int, control_exposures: int, alpha: float = 0.05
) -> Comparison:
    """Arm minus control: Newcombe interval for the difference, log-ratio interval for the relative lift,
    pooled two-sided z-test for the p-value."""
    _check_counts(successes, exposures, "arm")
    _check_counts(control_successes, control_exposures, "control")
    rate, control_rate = successes / exposures, control_successes / control_exposures
    low, high = confint_proportions_2indep(
        successes, exposures, control_successes, control_exposures, method="newcomb", compare="diff", alpha=alpha
    )
    # The log-ratio interval needs a success on both sides; with none the lift is unbounded.
    if successes > 0 and control_successes > 0:
        ratio_low, ratio_high = confint_proportions_2indep(
            successes, exposures, control_successes, control_exposures, method="log", compare="ratio", alpha=alpha
        )
        relative_interval = Interval(float(ratio_low) - 1.0, float(ratio_high) - 1.0)
    else:
        relative_interval = Interval.undefined()
    return Comparison(
        absolute=rate - control_rate,
        absolute_interval=Interval(float(low), float(high)),
        relative=rate / control_rate - 1.0 if control_rate > 0 else math.nan,
        relative_interval=relative_interval,
        p_value=z_test_p_value(successes, exposures, control_successes, control_exposures),
        standard_error=math.sqrt(rate * (1 - rate) / exposures + control_rate * (1 - control_rate) / control_exposures),
    )


def z_test_p_value(successes: int, exposures: int, control_successes: int, control_exposures: int) -> float:
    """Two-sided pooled z-test; 1.0 when every unit (or none) succeeded, where the test has no variance."""
    pooled = (successes + control_successes) / (exposures + control_exposures)
    if pooled in (0.0, 1.0):
        return 1.0
    _, p_value = proportions_ztest([successes, control_successes], [exposures, control_exposures])
    return float(p_value)


def z_test_p_values(
    successes: FloatArray, exposures: FloatArray, control_successes: FloatArray, control_exposures: FloatArray
) -> FloatArray:
    """`z_test_p_value` over arrays (many simulated looks at once); a test checks both agree."""
    pooled = (successes + control_successes) / (exposures + control_exposures)
    variance = pooled * (1 - pooled) * (1 / exposures + 1 / control_exposures)
    difference = successes / exposures - control_successes / control_exposures
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(variance > 0, difference / np.sqrt(variance), 0.0)
    return np.asarray(2 * stats.norm.sf(np.abs(z)), dtype=np.float64)
