"""One segment's arms against its control: estimate, lift, p-value, sequential interval, chance to beat."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from training.stats.bayes import chance_to_beat_control, normal_chance_to_beat_control
from training.stats.comparison import Comparison, Interval
from training.stats.means import compare_means, estimate_mean
from training.stats.proportions import compare_rates, estimate_rate
from training.stats.sequential import difference_from_sums, sequential_bounds

FloatArray = npt.NDArray[np.float64]
Row = dict[str, str | int | float]
NAN = math.nan


@dataclass(frozen=True)
class SequentialSettings:
    """The confidence sequences' alpha (Bonferroni over the family) and their planned total sample."""

    alpha: float
    planned_total_n: float


def _estimate(values: FloatArray, is_rate: bool, alpha: float) -> Row:
    row: Row = {"exposures": len(values), "total": float(values.sum())}
    if is_rate and len(values) > 0:
        rate = estimate_rate(int(values.sum()), len(values), alpha)
        row.update(estimate=rate.rate, estimate_low=rate.wilson.low, estimate_high=rate.wilson.high)
        row.update(exact_low=rate.clopper_pearson.low, exact_high=rate.clopper_pearson.high)
    elif not is_rate and len(values) >= 2:
        mean = estimate_mean(values, alpha)
        row.update(estimate=mean.mean, estimate_low=mean.interval.low, estimate_high=mean.interval.high)
        row.update(exact_low=NAN, exact_high=NAN)
    else:
        row.update(estimate=float(values.mean()) if len(values) else NAN, estimate_low=NAN, estimate_high=NAN)
        row.update(exact_low=NAN, exact_high=NAN)
    return row


def _sequence(values: FloatArray, control: FloatArray, sequential: SequentialSettings) -> Interval:
    """From running sums, exactly as the timeline computes it, so its last day equals this row."""
    sums = [np.array([float(len(v)), float(v.sum()), float(np.square(v).sum())]) for v in (values, control)]
    difference, standard_error = difference_from_sums(*sums[0], *sums[1])
    low, high = sequential_bounds(
        difference, standard_error, len(values) + len(control), sequential.planned_total_n, sequential.alpha
    )
    return Interval(float(low), float(high))


def _compare(values: FloatArray, control: FloatArray, is_rate: bool, alpha: float) -> tuple[Comparison, float] | None:
    """The fixed-horizon comparison and the chance to beat control, or None when the data cannot support one."""
    if is_rate and len(values) > 0 and len(control) > 0:
        successes, control_successes = int(values.sum()), int(control.sum())
        comparison = compare_rates(successes, len(values), control_successes, len(control), alpha)
        return comparison, chance_to_beat_control(successes, len(values), control_successes, len(control))
    if not is_rate and len(values) >= 2 and len(control) >= 2:
        comparison = compare_means(values, control, alpha)
        return comparison, normal_chance_to_beat_control(comparison.absolute, comparison.standard_error)
    return None


def compare_arms(
    segment: str,
    values_by_arm: Mapping[str, FloatArray],
    control_arm: str,
    is_rate: bool,
    alpha: float,
    sequential: SequentialSettings,
) -> list[Row]:
    """One row per arm (control first, with NaN lift columns); arms absent from the segment get 0 exposures."""
    empty = np.zeros(0, dtype=np.float64)
    control = values_by_arm.get(control_arm, empty)
    arms = [control_arm, *sorted(arm for arm in values_by_arm if arm != control_arm)]
    rows = []
    for arm in arms:
        values = values_by_arm.get(arm, empty)
        row: Row = {"segment": segment, "arm": arm, **_estimate(values, is_rate, alpha)}
        compared = None if arm == control_arm else _compare(values, control, is_rate, alpha)
        if compared is None:
            lift, sequence, chance = None, Interval.undefined(), NAN
        else:
            lift, chance = compared
            sequence = _sequence(values, control, sequential)
        row.update(
            abs_lift=lift.absolute if lift else NAN,
            abs_low=lift.absolute_interval.low if lift else NAN,
            abs_high=lift.absolute_interval.high if lift else NAN,
            rel_lift=lift.relative if lift else NAN,
            rel_low=lift.relative_interval.low if lift else NAN,
            rel_high=lift.relative_interval.high if lift else NAN,
            p_value=lift.p_value if lift else NAN,
            seq_low=sequence.low,
            seq_high=sequence.high,
            chance_to_beat=chance,
        )
        rows.append(row)
    return rows
