"""How many users and days an experiment needs, at a fixed horizon and when read daily (sequentially).

Both answers use the same test of two proportions on Cohen's effect size h (arcsine scale;
statsmodels `proportion_effectsize` + `NormalIndPower`). The fixed horizon uses the
Bonferroni-adjusted alpha. The sequential answer asks that the confidence sequence (see
`training.stats.sequential`) exclude 0 at the planned sample with the requested power:
there its half-width is `critical_z_at_plan(alpha)` standard errors (3.04 at 0.05 instead of
1.96), so the same power calculation runs with the alpha whose two-sided z is that value.
Detection at earlier looks only adds power, so the figure is conservative (the bench and a
test simulate it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from scipy import stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from training.stats.sequential import critical_z_at_plan


@dataclass(frozen=True)
class PlanInputs:
    """What the planner is told; `daily_eligible` is the daily traffic of the segment being planned
    (plan for the smallest segment you want an answer for) and `coverage` the share of it enrolled."""

    baseline_rate: float
    minimum_detectable_effect: float
    alpha: float = 0.05
    power: float = 0.8
    comparisons: int = 1
    arms: int = 2
    daily_eligible: float = 10_000.0
    coverage: float = 1.0

    def check(self) -> None:
        problems = []
        if not 0 < self.baseline_rate < 1:
            problems.append(f"baseline_rate must lie in (0, 1), got {self.baseline_rate}")
        if self.minimum_detectable_effect <= 0:
            problems.append(
                f"minimum_detectable_effect (relative, e.g. 0.10) must be > 0, got {self.minimum_detectable_effect}"
            )
        elif self.baseline_rate * (1 + self.minimum_detectable_effect) >= 1:
            problems.append("baseline_rate × (1 + minimum_detectable_effect) must stay below 1")
        if not 0 < self.alpha < 1:
            problems.append(f"alpha must lie in (0, 1), got {self.alpha}")
        if not 0 < self.power < 1:
            problems.append(f"power must lie in (0, 1), got {self.power}")
        if self.comparisons < 1:
            problems.append(f"comparisons must be >= 1, got {self.comparisons}")
        if self.arms < 2:
            problems.append(f"arms (control included) must be >= 2, got {self.arms}")
        if self.daily_eligible <= 0:
            problems.append(f"daily_eligible must be > 0, got {self.daily_eligible}")
        if not 0 < self.coverage <= 1:
            problems.append(f"coverage must lie in (0, 1], got {self.coverage}")
        if problems:
            raise ValueError("; ".join(problems))


@dataclass(frozen=True)
class Plan:
    inputs: PlanInputs
    adjusted_alpha: float
    target_rate: float
    effect_size: float
    fixed_users_per_arm: int
    fixed_days: int
    fixed_critical_z: float
    sequential_users_per_arm: int
    sequential_days: int
    sequential_critical_z: float

    @property
    def planned_total_n(self) -> int:
        """The tuning sample of the confidence sequence: one arm plus control at the sequential plan."""
        return 2 * self.sequential_users_per_arm

    def table(self) -> pd.DataFrame:
        """Both designs side by side, so the cost of reading results daily is visible."""
        return pd.DataFrame(
            {
                "design": ["fixed horizon (one look)", "sequential (daily looks)"],
                "critical_z": [self.fixed_critical_z, self.sequential_critical_z],
                "users_per_arm": [self.fixed_users_per_arm, self.sequential_users_per_arm],
                "total_users": [
                    self.fixed_users_per_arm * self.inputs.arms,
                    self.sequential_users_per_arm * self.inputs.arms,
                ],
                "days": [self.fixed_days, self.sequential_days],
            }
        )


def _users_per_arm(effect_size: float, two_sided_alpha: float, power: float) -> int:
    n = NormalIndPower().solve_power(effect_size=effect_size, alpha=two_sided_alpha, power=power, ratio=1.0)
    return math.ceil(float(n))


def plan(
    baseline_rate: float,
    minimum_detectable_effect: float,
    alpha: float = 0.05,
    power: float = 0.8,
    comparisons: int = 1,
    arms: int = 2,
    daily_eligible: float = 10_000.0,
    coverage: float = 1.0,
) -> Plan:
    """Users per arm and days for a relative lift of `minimum_detectable_effect` over `baseline_rate`.

    `comparisons` is the size of the family (segments × treatment arms; `analyze` counts the
    "all" segment too): alpha is divided by it (Bonferroni), as the analysis does for its
    sequential intervals.
    """
    inputs = PlanInputs(
        baseline_rate, minimum_detectable_effect, alpha, power, comparisons, arms, daily_eligible, coverage
    )
    inputs.check()
    adjusted_alpha = alpha / comparisons
    target_rate = baseline_rate * (1 + minimum_detectable_effect)
    effect_size = abs(float(proportion_effectsize(target_rate, baseline_rate)))
    sequential_z = critical_z_at_plan(adjusted_alpha)
    fixed_n = _users_per_arm(effect_size, adjusted_alpha, power)
    sequential_n = _users_per_arm(effect_size, float(2 * stats.norm.sf(sequential_z)), power)
    users_per_day_per_arm = daily_eligible * coverage / arms
    return Plan(
        inputs=inputs,
        adjusted_alpha=adjusted_alpha,
        target_rate=target_rate,
        effect_size=effect_size,
        fixed_users_per_arm=fixed_n,
        fixed_days=math.ceil(fixed_n / users_per_day_per_arm),
        fixed_critical_z=float(stats.norm.isf(adjusted_alpha / 2)),
        sequential_users_per_arm=sequential_n,
        sequential_days=math.ceil(sequential_n / users_per_day_per_arm),
        sequential_critical_z=sequential_z,
    )
