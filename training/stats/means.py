"""Means of a non-negative, skewed metric (revenue per exposure): Welch's interval and test against control."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from training.stats.comparison import Comparison, Interval

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class MeanEstimate:
    mean: float
    interval: Interval


def _check_values(values: FloatArray, name: str) -> None:
    if len(values) < 2:
        raise ValueError(f"{name}: a mean's interval needs at least 2 exposures, got {len(values)}")


def estimate_mean(values: FloatArray, alpha: float = 0.05) -> MeanEstimate:
    """Student-t interval for the mean; with a few thousand exposures the CLT carries the skew."""
    _check_values(values, "mean")
    mean = float(np.mean(values))
    if np.ptp(values) == 0:
        return MeanEstimate(mean, Interval(mean, mean))
    low, high = stats.ttest_1samp(values, 0.0).confidence_interval(1 - alpha)
    return MeanEstimate(mean, Interval(float(low), float(high)))


def compare_means(values: FloatArray, control_values: FloatArray, alpha: float = 0.05) -> Comparison:
    """Arm minus control by Welch's t-test (unequal variances: a winning arm often changes the spread too).

    The relative lift uses the log-ratio (delta-method) interval, the analogue of the one used for rates.
    """
    _check_values(values, "arm")
    _check_values(control_values, "control")
    mean, control_mean = float(np.mean(values)), float(np.mean(control_values))
    variance, control_variance = float(np.var(values, ddof=1)), float(np.var(control_values, ddof=1))
    standard_error = math.sqrt(variance / len(values) + control_variance / len(control_values))
    if standard_error == 0:
        difference = mean - control_mean
        return Comparison(
            absolute=difference,
            absolute_interval=Interval(difference, difference),
            relative=mean / control_mean - 1.0 if control_mean > 0 else math.nan,
            relative_interval=Interval.undefined(),
            p_value=1.0 if difference == 0 else 0.0,
            standard_error=0.0,
        )
    welch = stats.ttest_ind(values, control_values, equal_var=False)
    low, high = welch.confidence_interval(1 - alpha)
    return Comparison(
        absolute=mean - control_mean,
        absolute_interval=Interval(float(low), float(high)),
        relative=mean / control_mean - 1.0 if control_mean > 0 else math.nan,
        relative_interval=_log_ratio_interval(
            mean, variance, len(values), control_mean, control_variance, len(control_values), alpha
        ),
        p_value=float(welch.pvalue),
        standard_error=standard_error,
    )


def _log_ratio_interval(
    mean: float, variance: float, n: int, control_mean: float, control_variance: float, control_n: int, alpha: float
) -> Interval:
    if mean <= 0 or control_mean <= 0:
        return Interval.undefined()
    log_ratio = math.log(mean / control_mean)
    log_se = math.sqrt(variance / (n * mean**2) + control_variance / (control_n * control_mean**2))
    z = float(stats.norm.ppf(1 - alpha / 2))
    return Interval(math.exp(log_ratio - z * log_se) - 1.0, math.exp(log_ratio + z * log_se) - 1.0)
