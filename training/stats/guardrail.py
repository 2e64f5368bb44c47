"""Guardrails: the primary analysis run on other metrics, flagging arms that make them worse with confidence."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from training.stats.arm_comparison import SequentialSettings, compare_arms
from training.stats.experiment_table import RATE_METRICS

_COLUMNS = ["metric", "segment", "arm", "control", "estimate", "abs_lift", "seq_low", "seq_high", "degraded"]


def guardrail_checks(
    groups: Mapping[str, pd.DataFrame],
    metrics: Sequence[str],
    control_arm: str,
    alpha: float,
    sequential: SequentialSettings,
) -> pd.DataFrame:
    """`groups`: each segment's rows (columns arm and the metrics). Every guardrail metric is one where
    higher is better (clicks, conversions, revenue), so an arm degrades it when its always-valid
    interval lies entirely below 0: a conclusion that holds however often the results are read."""
    records = []
    for metric in metrics:
        for segment, rows in groups.items():
            values = {str(arm): part[metric].to_numpy(np.float64) for arm, part in rows.groupby("arm")}
            control, *treated = compare_arms(segment, values, control_arm, metric in RATE_METRICS, alpha, sequential)
            for row in treated:
                records.append(
                    {
                        "metric": metric,
                        "segment": segment,
                        "arm": row["arm"],
                        "control": control["estimate"],
                        "estimate": row["estimate"],
                        "abs_lift": row["abs_lift"],
                        "seq_low": row["seq_low"],
                        "seq_high": row["seq_high"],
                        "degraded": bool(float(row["seq_high"]) < 0),
                    }
                )
    return pd.DataFrame.from_records(records, columns=_COLUMNS)
