"""Joined decision tables with planted effects (only the columns of `training join` that the analysis reads)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

START = pd.Timestamp("2025-03-01", tz="UTC")


def joined_table(
    rates: Mapping[tuple[str, str], float],
    decisions_per_day: int,
    days: int,
    seed: int = 0,
    experiment_id: str = "exp-1",
    revenue_per_conversion: float = 40.0,
) -> pd.DataFrame:
    """One experiment; `rates[(segment, arm)]` is the click rate of that cell, each cell getting
    `decisions_per_day` decisions a day. A click converts with probability 0.2 and a conversion
    brings exponential revenue (mean `revenue_per_conversion`)."""
    rng = np.random.default_rng(seed)
    parts = []
    for (segment, arm), rate in rates.items():
        n = decisions_per_day * days
        clicked = rng.random(n) < rate
        converted = clicked & (rng.random(n) < 0.2)
        day = np.repeat(np.arange(days), decisions_per_day)
        seconds = rng.integers(0, 86_400, n)
        parts.append(
            pd.DataFrame(
                {
                    "experiment_id": experiment_id,
                    "arm": arm,
                    "segment": segment,
                    "decided_at": START + pd.to_timedelta(day, unit="D") + pd.to_timedelta(seconds, unit="s"),
                    "clicked": clicked,
                    "converted": converted,
                    "revenue": np.where(converted, rng.exponential(revenue_per_conversion, n), 0.0),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)
