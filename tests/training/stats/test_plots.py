"""The figures: one row per segment and arm, one panel per segment shown."""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.stats import plots


def _arms(segments: int) -> pd.DataFrame:
    rows = []
    for i in range(segments):
        for arm in ("control", "b", "c"):
            rows.append(
                {
                    "segment": f"s{i}",
                    "arm": arm,
                    "abs_lift": 0.01,
                    "abs_low": 0.0,
                    "abs_high": 0.02,
                    "seq_low": -0.01,
                    "seq_high": 0.03,
                }
            )
    return pd.DataFrame(rows)


def test_lift_intervals_draw_every_treated_arm_and_cap_the_segments() -> None:
    figure = plots.lift_intervals(_arms(40), "control")
    axes = figure.axes[0]
    assert len(axes.get_yticklabels()) == plots.MAX_SEGMENTS_SHOWN
    legend = axes.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["b vs control", "c vs control"]


def test_cumulative_lift_has_one_panel_per_segment_shown() -> None:
    days = pd.date_range("2025-03-01", periods=3, tz="UTC")
    timeline = pd.DataFrame(
        {
            "segment": "all",
            "arm": "b",
            "day": days,
            "abs_lift": [0.0, 0.01, 0.02],
            "seq_low": -0.1,
            "seq_high": np.array([0.1, 0.08, 0.05]),
        }
    )
    figure = plots.cumulative_lift(timeline, "control", ["all", "x"])
    assert len(figure.axes) == 2
    assert figure.axes[0].get_title(loc="left") == "all"
