"""Simulated experiments read daily: how often each method declares a difference (A/A) or finds a planted one.

Everything is vectorised: daily Bernoulli counts are binomial draws of shape (runs, ..., days),
cumulated, and every daily look of every run is tested at once with the same functions the
analysis uses (`z_test_p_values`, `difference_from_sums`, `sequential_bounds`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from training.stats.power import Plan
from training.stats.proportions import z_test_p_values
from training.stats.sequential import difference_from_sums, sequential_bounds

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class DailyLooks:
    """Cumulative exposures and successes per run and day for one arm against control."""

    n: FloatArray
    successes: FloatArray
    control_n: FloatArray
    control_successes: FloatArray

    def fixed_rejections(self, alpha: float) -> BoolArray:
        """Each day's fixed-horizon z-test rejecting at `alpha` (as if that day were the only look)."""
        return z_test_p_values(self.successes, self.n, self.control_successes, self.control_n) < alpha

    def sequential_bounds(self, planned_total_n: float, alpha: float) -> tuple[FloatArray, FloatArray]:
        difference, standard_error = difference_from_sums(
            self.n, self.successes, self.successes, self.control_n, self.control_successes, self.control_successes
        )
        return sequential_bounds(difference, standard_error, self.n + self.control_n, planned_total_n, alpha)


def simulate_looks(
    rng: np.random.Generator,
    shape: tuple[int, ...],
    days: int,
    users_per_day: int,
    rate: FloatArray,
    control_rate: float,
) -> DailyLooks:
    """`rate` broadcasts against `shape` (e.g. one rate per segment); every day adds `users_per_day` per arm."""
    size = (*shape, days)
    arm_rate = np.broadcast_to(np.asarray(rate, dtype=np.float64)[..., None], size)
    daily_n = np.full(size, float(users_per_day))
    return DailyLooks(
        n=np.cumsum(daily_n, axis=-1),
        successes=np.cumsum(rng.binomial(users_per_day, arm_rate), axis=-1).astype(np.float64),
        control_n=np.cumsum(daily_n, axis=-1),
        control_successes=np.cumsum(rng.binomial(users_per_day, control_rate, size=size), axis=-1).astype(np.float64),
    )


def _ever(rejections: BoolArray) -> BoolArray:
    """Has any look so far rejected (cumulative along days)?"""
    return np.asarray(np.logical_or.accumulate(rejections, axis=-1), dtype=np.bool_)


@dataclass(frozen=True)
class AACalibration:
    """Share of A/A runs declared different at any daily look up to each day (index = day - 1)."""

    runs: int
    days: int
    users_per_day_per_arm: int
    baseline_rate: float
    alpha: float
    fixed_by_day: FloatArray
    sequential_by_day: FloatArray
    fixed_last_look_only: float

    @property
    def fixed_peeking_rate(self) -> float:
        return float(self.fixed_by_day[-1])

    @property
    def sequential_rate(self) -> float:
        return float(self.sequential_by_day[-1])


def aa_calibration(
    runs: int, days: int, users_per_day_per_arm: int, baseline_rate: float, alpha: float = 0.05, seed: int = 0
) -> AACalibration:
    """A/A experiments read daily; the sequential intervals are tuned for the final sample (the plan)."""
    looks = simulate_looks(
        np.random.default_rng(seed), (runs,), days, users_per_day_per_arm, np.full(runs, baseline_rate), baseline_rate
    )
    fixed = looks.fixed_rejections(alpha)
    low, high = looks.sequential_bounds(2 * users_per_day_per_arm * days, alpha)
    return AACalibration(
        runs=runs,
        days=days,
        users_per_day_per_arm=users_per_day_per_arm,
        baseline_rate=baseline_rate,
        alpha=alpha,
        fixed_by_day=_ever(fixed).mean(axis=0),
        sequential_by_day=_ever((low > 0) | (high < 0)).mean(axis=0),
        fixed_last_look_only=float(fixed[:, -1].mean()),
    )


@dataclass(frozen=True)
class PowerCheck:
    """A planted lift in one segment, the others null, read daily until the sequential plan's last day."""

    runs: int
    segments: int
    days: int
    users_per_day_per_arm: int
    detected: float
    detected_by_day: FloatArray
    median_days_to_detect: float
    null_segment_false_stops: float
    fixed_power_at_fixed_plan: float


def power_check(plan: Plan, segments: int, runs: int, seed: int = 0) -> PowerCheck:
    """Segment 0 gets the plan's minimum detectable effect; segments 1.. are null. `plan.inputs.comparisons`
    sets the Bonferroni alpha of the sequential intervals, as `analyze` does with its family size."""
    users_per_day = round(plan.inputs.daily_eligible * plan.inputs.coverage / plan.inputs.arms)
    rates = np.full((runs, segments), plan.inputs.baseline_rate)
    rates[:, 0] = plan.target_rate
    looks = simulate_looks(
        np.random.default_rng(seed),
        (runs, segments),
        plan.sequential_days,
        users_per_day,
        rates,
        plan.inputs.baseline_rate,
    )
    low, high = looks.sequential_bounds(plan.planned_total_n, plan.adjusted_alpha)
    wins = _ever(low[:, 0] > 0)
    first_day = np.where(wins.any(axis=1), wins.argmax(axis=1) + 1, np.nan)
    null_stops = _ever((low[:, 1:] > 0) | (high[:, 1:] < 0))[..., -1].any(axis=1)
    fixed_day = min(plan.fixed_days, plan.sequential_days) - 1
    fixed = looks.fixed_rejections(plan.adjusted_alpha)[:, 0, fixed_day]
    return PowerCheck(
        runs=runs,
        segments=segments,
        days=plan.sequential_days,
        users_per_day_per_arm=users_per_day,
        detected=float(wins[:, -1].mean()),
        detected_by_day=wins.mean(axis=0),
        median_days_to_detect=float(np.nanmedian(first_day)) if wins[:, -1].any() else float("nan"),
        null_segment_false_stops=float(null_stops.mean()),
        fixed_power_at_fixed_plan=float(fixed.mean()),
    )
