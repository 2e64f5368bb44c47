"""The analysis' figures: each arm's lift interval per segment, and the cumulative lift by day."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from training.report.html import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_SEGMENTS_SHOWN = 25
MAX_TIMELINES_SHOWN = 6


def lift_intervals(arms: pd.DataFrame, control_arm: str) -> Figure:
    """Per segment (rows) and treatment arm: the fixed-horizon interval (thick) inside the always-valid one (thin)."""
    treated = arms[arms["arm"] != control_arm]
    segments = list(dict.fromkeys(treated["segment"]))[:MAX_SEGMENTS_SHOWN]
    names = sorted(set(treated["arm"]))
    figure = new_figure(8.0, 1.0 + 0.35 * len(segments) * max(len(names), 1))
    axes = figure.add_subplot()
    step = 0.8 / max(len(names), 1)
    for j, arm in enumerate(names):
        rows = treated[treated["arm"] == arm].set_index("segment").reindex(segments)
        y = np.arange(len(segments)) + j * step
        axes.hlines(y, rows["seq_low"], rows["seq_high"], color=f"C{j}", linewidth=1, alpha=0.7)
        axes.hlines(y, rows["abs_low"], rows["abs_high"], color=f"C{j}", linewidth=4, label=f"{arm} vs {control_arm}")
        axes.plot(rows["abs_lift"], y, "o", color="black", markersize=3)
    axes.axvline(0, color="grey", linewidth=0.8)
    axes.set_yticks(np.arange(len(segments)) + step * (len(names) - 1) / 2, segments)
    axes.invert_yaxis()
    axes.set_xlabel("absolute lift (thick: fixed-horizon interval; thin: always-valid interval)")
    if names:
        axes.legend(loc="best", fontsize="small")
    return figure


def cumulative_lift(timeline: pd.DataFrame, control_arm: str, segments: list[str]) -> Figure:
    """One panel per segment: each arm's cumulative absolute lift by day inside its always-valid band."""
    shown = segments[:MAX_TIMELINES_SHOWN]
    figure = new_figure(8.0, 2.4 * len(shown))
    for i, segment in enumerate(shown):
        axes = figure.add_subplot(len(shown), 1, i + 1)
        rows = timeline[(timeline["segment"] == segment) & (timeline["arm"] != control_arm)]
        for j, (arm, part) in enumerate(rows.groupby("arm")):
            days = part["day"].dt.tz_localize(None)
            axes.plot(days, part["abs_lift"], color=f"C{j}", label=f"{arm} vs {control_arm}")
            axes.fill_between(days, part["seq_low"], part["seq_high"], color=f"C{j}", alpha=0.2)
        axes.axhline(0, color="grey", linewidth=0.8)
        axes.set_title(segment, fontsize="medium", loc="left")
        axes.set_ylabel("abs lift")
        if rows.empty:
            axes.text(0.5, 0.5, "no treated exposures", transform=axes.transAxes, ha="center", color="grey")
        else:
            axes.legend(loc="upper right", fontsize="small")
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure
