"""One experiment analysed over the joined decision table: segment × arm figures, verdicts, SRM, timeline, guardrails.

The family of comparisons is every segment (the pooled "all" included) × every treatment arm.
Fixed-horizon p-values are adjusted over it with `correction`; the always-valid intervals,
which drive the stopping verdicts, use alpha / family size (Bonferroni, valid for confidence
sequences whatever the dependence) unless `correction` is "none".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from training.stats.arm_comparison import SequentialSettings, compare_arms
from training.stats.experiment_table import ALL_SEGMENTS, RATE_METRICS, check_metric, experiment_rows
from training.stats.factorial import SegmentInteraction, segment_interaction
from training.stats.guardrail import guardrail_checks
from training.stats.multiple import adjust_p_values, check_correction
from training.stats.sequential import DEFAULT_PLANNED_TOTAL
from training.stats.srm import SRM_THRESHOLD, check_sample_ratio
from training.stats.timeline import cumulative_lift
from training.stats.verdict import segment_verdict


@dataclass(frozen=True)
class ExperimentAnalysis:
    """Everything `analyze` found. Frames, one row per:

    - `arms`: segment × arm (exposures, total, estimate with Wilson or t interval, exact
      Clopper-Pearson interval for rates, abs/rel lift with intervals, p_value, p_adjusted,
      seq_low/seq_high for the absolute lift, chance_to_beat);
    - `sample_ratio`: segment (chi2, p_value, mismatch);
    - `verdicts`: segment (verdict, winner);
    - `timeline`: segment × arm × day (cumulative);
    - `guardrails`: guardrail metric × segment × treatment arm (degraded).
    """

    experiment_id: str
    metric: str
    control_arm: str
    alpha: float
    correction: str
    family_size: int
    sequential_alpha: float
    planned_users_per_arm: int | None
    arms: pd.DataFrame
    sample_ratio: pd.DataFrame
    verdicts: pd.DataFrame
    timeline: pd.DataFrame
    guardrails: pd.DataFrame
    interaction: SegmentInteraction | None


def _check_inputs(alpha: float, correction: str, metric: str, guardrails: Sequence[str], planned: int | None) -> None:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    check_correction(correction)
    check_metric(metric)
    if metric in guardrails:
        raise ValueError(f"metric {metric!r} is also listed as a guardrail; a guardrail is another metric")
    if planned is not None and planned <= 0:
        raise ValueError(f"planned_users_per_arm must be positive, got {planned}")


def _segment_groups(rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The pooled segment first, then segments by exposures (largest first): tables read from the broadest view."""
    sizes = rows.groupby("segment").size().sort_values(ascending=False, kind="stable")
    parts = {str(name): part for name, part in rows.groupby("segment")}
    return {ALL_SEGMENTS: rows, **{str(name): parts[str(name)] for name in sizes.index}}


def _sample_ratio_frame(
    groups: Mapping[str, pd.DataFrame], arms: Sequence[str], weights: Mapping[str, float], threshold: float
) -> pd.DataFrame:
    records = []
    for segment, rows in groups.items():
        exposures = {str(arm): int(count) for arm, count in rows["arm"].value_counts().items()}
        check = check_sample_ratio(exposures, weights, threshold)
        records.append(
            {
                "segment": segment,
                **{f"n_{arm}": exposures.get(arm, 0) for arm in arms},
                "chi2": check.statistic,
                "p_value": check.p_value,
                "mismatch": check.mismatch,
            }
        )
    return pd.DataFrame.from_records(records)


def _arm_frame(
    groups: Mapping[str, pd.DataFrame],
    metric: str,
    arms: Sequence[str],
    control_arm: str,
    alpha: float,
    sequential: SequentialSettings,
    correction: str,
) -> pd.DataFrame:
    records = []
    for segment, rows in groups.items():
        by_arm = {str(arm): part[metric].to_numpy(np.float64) for arm, part in rows.groupby("arm")}
        values = {arm: by_arm.get(arm, np.zeros(0)) for arm in arms}
        records.extend(compare_arms(segment, values, control_arm, metric in RATE_METRICS, alpha, sequential))
    frame = pd.DataFrame.from_records(records)
    frame["p_adjusted"] = adjust_p_values(frame["p_value"].to_numpy(np.float64), correction)
    columns = list(frame.columns[:-1])
    columns.insert(columns.index("p_value") + 1, "p_adjusted")
    return frame[columns]


def analyze(
    table: pd.DataFrame,
    experiment_id: str,
    metric: str,
    control_arm: str,
    weights: Mapping[str, float],
    alpha: float = 0.05,
    correction: str = "holm",
    *,
    planned_users_per_arm: int | None = None,
    guardrails: Sequence[str] = (),
    srm_threshold: float = SRM_THRESHOLD,
) -> ExperimentAnalysis:
    """Analyse `metric` ("click", "conversion" or "revenue") of one experiment per segment and arm.

    `weights`: the declared share of each arm (for the sample-ratio check). `planned_users_per_arm`
    (from `training.stats.power.plan`, `sequential_users_per_arm`) tunes the always-valid
    intervals and enables the "stop: no effect" verdict; without it they are tuned for
    GrowthBook's default of 5,000 units.
    """
    _check_inputs(alpha, correction, metric, guardrails, planned_users_per_arm)
    rows = experiment_rows(table, experiment_id, [metric, *guardrails])
    seen = set(rows["arm"])
    if control_arm not in seen:
        raise ValueError(
            f"control arm {control_arm!r} has no decisions in {experiment_id!r}; arms seen: {sorted(seen)}"
        )
    undeclared = sorted(seen - set(weights))
    if undeclared:
        raise ValueError(f"arms {undeclared} of {experiment_id!r} are missing from weights {dict(weights)}")
    arms = [control_arm, *sorted(arm for arm in weights if arm != control_arm and (weights[arm] > 0 or arm in seen))]
    groups = _segment_groups(rows)
    family_size = len(groups) * max(len(arms) - 1, 1)
    planned_total = DEFAULT_PLANNED_TOTAL if planned_users_per_arm is None else 2 * planned_users_per_arm
    sequential = SequentialSettings(alpha / family_size if correction != "none" else alpha, planned_total)

    arm_frame = _arm_frame(groups, metric, arms, control_arm, alpha, sequential, correction)
    verdicts = {
        segment: segment_verdict(part, control_arm, planned_users_per_arm)
        for segment, part in arm_frame.groupby("segment", sort=False)
    }
    pooled = pd.concat([rows.assign(segment=ALL_SEGMENTS), rows], ignore_index=True)
    interaction = None
    if metric in RATE_METRICS and len(groups) > 2:
        interaction = segment_interaction(rows, control_arm, outcome=metric)
    return ExperimentAnalysis(
        experiment_id=experiment_id,
        metric=metric,
        control_arm=control_arm,
        alpha=alpha,
        correction=correction,
        family_size=family_size,
        sequential_alpha=sequential.alpha,
        planned_users_per_arm=planned_users_per_arm,
        arms=arm_frame,
        sample_ratio=_sample_ratio_frame(groups, arms, weights, srm_threshold),
        verdicts=pd.DataFrame([{"segment": s, "verdict": v.verdict, "winner": v.winner} for s, v in verdicts.items()]),
        timeline=cumulative_lift(pooled, metric, control_arm, sequential),
        guardrails=guardrail_checks(groups, guardrails, control_arm, alpha, sequential),
        interaction=interaction,
    )
