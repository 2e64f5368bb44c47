"""Served KPIs from the joined table: per tier, rule, model version, placement, segment and experiment arm.

Per group: decisions, click rate and conversion rate (share of decisions with at least one
click / conversion in the attribution window) with Wilson intervals, and revenue per
decision with a Student-t interval (`training.stats`). Only the columns named in
`KPI_COLUMNS` are read, so no user key can reach a report.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from training.stats.means import estimate_mean
from training.stats.proportions import estimate_rate

KPI_COLUMNS = (
    "decided_at",
    "tier",
    "rule_id",
    "model_name",
    "model_version",
    "placement",
    "segment",
    "experiment_id",
    "experiment_version",
    "arm",
    "clicked",
    "converted",
    "revenue",
)
ALL = "all"


def _tier(frame: pd.DataFrame) -> pd.Series:
    return frame["tier"].replace("", "(none)")


def _rule(frame: pd.DataFrame) -> pd.Series:
    return frame["rule_id"]


def _model(frame: pd.DataFrame) -> pd.Series:
    label = frame["model_name"] + " v" + frame["model_version"]
    return label.where(frame["model_version"] != "", "")


def _placement(frame: pd.DataFrame) -> pd.Series:
    return frame["placement"].replace("", "(none)")


def _segment(frame: pd.DataFrame) -> pd.Series:
    return frame["segment"].replace("", "(unknown)")


def _arm(frame: pd.DataFrame) -> pd.Series:
    version = (" v" + frame["experiment_version"]).where(frame["experiment_version"] != "", "")
    label = frame["experiment_id"] + version + ": " + frame["arm"]
    return label.where(frame["experiment_id"] != "", "")


#: Each dimension's label per decision; "" leaves a decision out of that dimension (no rule, no experiment).
DIMENSIONS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "tier": _tier,
    "rule": _rule,
    "model": _model,
    "placement": _placement,
    "segment": _segment,
    "arm": _arm,
}


def read_for_kpi(path: Path) -> pd.DataFrame:
    """The joined table's KPI columns; a clear error for a file that is not one."""
    if not path.is_file():
        raise ValueError(f"{path}: no joined table here; write one with `training join`")
    try:
        return pd.read_parquet(path, columns=list(KPI_COLUMNS))
    except (ValueError, KeyError, OSError) as exc:
        raise ValueError(f"{path}: not a joined table of `training join` ({exc})") from exc


def kpi_table(joined: pd.DataFrame, dimensions: Sequence[str] = tuple(DIMENSIONS), alpha: float = 0.05) -> pd.DataFrame:
    """One row for all decisions, then one per value of each dimension, in that order."""
    unknown = [d for d in dimensions if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown KPI dimension(s) {', '.join(unknown)}; choose from {', '.join(DIMENSIONS)}")
    if joined.empty:
        raise ValueError("the joined table has no decisions; nothing to report")
    rows = [_kpis(ALL, ALL, joined, alpha)]
    for dimension in dimensions:
        groups = joined.groupby(DIMENSIONS[dimension](joined).to_numpy()).indices
        for value in sorted(str(label) for label in groups if label != ""):
            rows.append(_kpis(dimension, value, joined.iloc[groups[value]], alpha))
    return pd.DataFrame(rows)


def _kpis(dimension: str, value: str, group: pd.DataFrame, alpha: float) -> dict[str, object]:
    n = len(group)
    clicks = int(group["clicked"].sum())
    conversions = int(group["converted"].sum())
    click = estimate_rate(clicks, n, alpha)
    conversion = estimate_rate(conversions, n, alpha)
    revenue = group["revenue"].to_numpy(dtype=np.float64)
    low, high = math.nan, math.nan
    if n >= 2:  # an interval for a mean needs two values
        mean = estimate_mean(revenue, alpha)
        low, high = mean.interval.low, mean.interval.high
    return {
        "dimension": dimension,
        "value": value,
        "decisions": n,
        "clicks": clicks,
        "click_rate": click.rate,
        "click_low": click.wilson.low,
        "click_high": click.wilson.high,
        "conversions": conversions,
        "conversion_rate": conversion.rate,
        "conversion_low": conversion.wilson.low,
        "conversion_high": conversion.wilson.high,
        "revenue": float(revenue.sum()),
        "revenue_per_decision": float(revenue.mean()),
        "revenue_low": low,
        "revenue_high": high,
    }


def timeline(joined: pd.DataFrame, freq: str | None = None) -> pd.DataFrame:
    """Decisions, clicks and click rate per time bucket and tier; hourly over up to three days, else daily."""
    decided = joined["decided_at"]
    if freq is None:
        freq = "h" if decided.max() - decided.min() <= pd.Timedelta(days=3) else "D"
    frame = pd.DataFrame({"bucket": decided.dt.floor(freq), "tier": _tier(joined), "clicked": joined["clicked"]})
    counts = frame.groupby(["bucket", "tier"], sort=True)["clicked"].agg(decisions="size", clicks="sum").reset_index()
    return counts.assign(click_rate=counts["clicks"] / counts["decisions"])
