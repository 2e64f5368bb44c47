"""Cumulative lift by day with its always-valid interval: what the experiment looked like at each daily look."""

from __future__ import annotations

import pandas as pd

from training.stats.arm_comparison import SequentialSettings
from training.stats.sequential import difference_from_sums, sequential_bounds


def cumulative_lift(rows: pd.DataFrame, metric: str, control_arm: str, sequential: SequentialSettings) -> pd.DataFrame:
    """`rows`: columns segment, arm, day and `metric`. One row per segment × arm × day (days without
    exposures carry the previous totals), with columns exposures, estimate, abs_lift, seq_low, seq_high."""
    daily = (
        rows.assign(_square=rows[metric] ** 2)
        .groupby(["segment", "arm", "day"], observed=True)
        .agg(n=(metric, "size"), total=(metric, "sum"), squares=("_square", "sum"))
    )
    wide = daily.unstack("day", fill_value=0).sort_index(axis=1)
    cumulative = wide.T.groupby(level=0).cumsum().T.stack("day", future_stack=True).reset_index()
    control = cumulative[cumulative["arm"] == control_arm].drop(columns="arm")
    merged = cumulative.merge(control, on=["segment", "day"], how="left", suffixes=("", "_control"))
    difference, standard_error = difference_from_sums(
        merged["n"].to_numpy(float),
        merged["total"].to_numpy(float),
        merged["squares"].to_numpy(float),
        merged["n_control"].to_numpy(float),
        merged["total_control"].to_numpy(float),
        merged["squares_control"].to_numpy(float),
    )
    n_total = (merged["n"] + merged["n_control"]).to_numpy(float)
    low, high = sequential_bounds(difference, standard_error, n_total, sequential.planned_total_n, sequential.alpha)
    is_control = (merged["arm"] == control_arm).to_numpy()
    out = pd.DataFrame(
        {
            "segment": merged["segment"],
            "arm": merged["arm"],
            "day": merged["day"],
            "exposures": merged["n"].astype("int64"),
            "estimate": merged["total"] / merged["n"].where(merged["n"] > 0),
            "abs_lift": difference,
            "seq_low": low,
            "seq_high": high,
        }
    )
    out.loc[is_control, ["abs_lift", "seq_low", "seq_high"]] = float("nan")
    return out.sort_values(["segment", "arm", "day"], ignore_index=True)
