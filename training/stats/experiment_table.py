"""One experiment's rows of the joined decision table, reduced to what the analysis reads.

The unit is the decision (one row of the joined table = one exposure). Missing segments ("")
are shown as "(unknown)"; the pooled segment is called "all".
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pandas as pd

# metric name -> column of the joined table
METRIC_COLUMNS = {"click": "clicked", "conversion": "converted", "revenue": "revenue"}
RATE_METRICS = frozenset({"click", "conversion"})
ALL_SEGMENTS = "all"
UNKNOWN_SEGMENT = "(unknown)"
_REQUIRED = ("experiment_id", "arm", "segment", "decided_at")


def check_metric(metric: str) -> None:
    if metric not in METRIC_COLUMNS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(METRIC_COLUMNS)}")


def experiment_rows(table: pd.DataFrame, experiment_id: str, metrics: Sequence[str]) -> pd.DataFrame:
    """Columns `segment`, `arm`, `day` (UTC date of decided_at) and one float column per metric.

    Raises ValueError naming the missing column or listing the experiments the table does hold.
    """
    for metric in metrics:
        check_metric(metric)
    needed = [*_REQUIRED, *(METRIC_COLUMNS[m] for m in metrics)]
    missing = [column for column in needed if column not in table.columns]
    if missing:
        raise ValueError(f"joined table lacks columns {missing}; was it written by `training join`?")
    rows = table[table["experiment_id"] == experiment_id].reset_index(drop=True)
    if rows.empty:
        known = sorted(set(table["experiment_id"]) - {""})
        raise ValueError(f"no decisions of experiment {experiment_id!r} in the table; experiments present: {known}")
    segments = rows["segment"].astype(str)
    if (segments == ALL_SEGMENTS).any():
        raise ValueError(f"a segment is named {ALL_SEGMENTS!r}, the name of the pooled segment; rename it upstream")
    out = pd.DataFrame(
        {
            "segment": segments.where(segments != "", UNKNOWN_SEGMENT),
            "arm": rows["arm"].astype(str),
            "day": pd.to_datetime(rows["decided_at"], utc=True).dt.floor("D"),
        }
    )
    for metric in metrics:
        out[metric] = rows[METRIC_COLUMNS[metric]].astype("float64")
    return out


def _parse_levels(text: str) -> dict[str, str]:
    try:
        levels = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f'levels {text!r} is not JSON ({error.msg}); expected an object like {{"headline": "bold"}}'
        ) from None
    if not isinstance(levels, dict) or not levels:
        raise ValueError(f"levels {text!r} is not a non-empty JSON object {{factor: level}}")
    return {str(factor): str(level) for factor, level in levels.items()}


def factorial_rows(table: pd.DataFrame, experiment_id: str, metric: str) -> tuple[pd.DataFrame, list[str]]:
    """A multivariate experiment's rows as `training.stats.factorial.analyze_factorial` reads them:
    one column per factor (from the JSON `levels` column), the 0/1 outcome in column `y`, and
    `segment`. Returns the frame and the factor names (in first-seen order)."""
    if metric == "revenue" or metric not in METRIC_COLUMNS:
        raise ValueError(f"a factorial analysis needs a 0/1 metric (click or conversion), got {metric!r}")
    if "levels" not in table.columns:
        raise ValueError("joined table lacks column 'levels'; was it written by `training join`?")
    rows = experiment_rows(table, experiment_id, [metric])
    texts = table.loc[table["experiment_id"] == experiment_id, "levels"].astype(str).reset_index(drop=True)
    parsed = {text: _parse_levels(text) for text in texts.unique()}  # few distinct cells: parse each once
    factors = list(dict.fromkeys(factor for levels in parsed.values() for factor in levels))
    reserved = sorted({"y", "segment"} & set(factors))
    if reserved:
        raise ValueError(f"factors {reserved} clash with the frame's own columns y and segment; rename them")
    incomplete = [text for text, levels in parsed.items() if set(levels) != set(factors)]
    if incomplete:
        raise ValueError(
            f"levels {incomplete[0]!r} lacks some of the factors {factors}; every decision needs all of them"
        )
    frame = pd.DataFrame({factor: texts.map(lambda text, f=factor: parsed[text][f]) for factor in factors})
    frame["y"] = rows[metric].astype("int64")
    frame["segment"] = rows["segment"]
    return frame, factors
