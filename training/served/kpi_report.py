"""The KPI report: the terminal table, and the HTML page with rate intervals per group and traffic over time."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from training.report.html import HtmlReport, new_figure
from training.report.table import render_frame

if TYPE_CHECKING:
    from pathlib import Path

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Dimensions plotted as click-rate intervals (rule and model rows are in the table).
PLOTTED = ("tier", "placement", "segment", "arm")
MAX_GROUPS_SHOWN = 25


def shown_table(kpis: pd.DataFrame) -> pd.DataFrame:
    """The KPI rows as printed: rates with their 95 % intervals as text."""

    def interval(low: pd.Series, high: pd.Series, digits: int) -> list[str]:
        return [
            "—" if np.isnan(lo) else f"[{lo:.{digits}f}, {hi:.{digits}f}]" for lo, hi in zip(low, high, strict=True)
        ]

    return pd.DataFrame(
        {
            "dimension": kpis["dimension"],
            "value": kpis["value"],
            "decisions": kpis["decisions"],
            "click rate": kpis["click_rate"],
            "click 95% CI": interval(kpis["click_low"], kpis["click_high"], 4),
            "conv. rate": kpis["conversion_rate"],
            "conv. 95% CI": interval(kpis["conversion_low"], kpis["conversion_high"], 4),
            "revenue/decision": kpis["revenue_per_decision"],
            "revenue 95% CI": interval(kpis["revenue_low"], kpis["revenue_high"], 2),
        }
    )


def terminal_table(kpis: pd.DataFrame) -> str:
    return render_frame(shown_table(kpis), text_columns=2)


def write_kpi_report(kpis: pd.DataFrame, over_time: pd.DataFrame, source: str, path: Path) -> Path:
    """One page: what was read, the table, click-rate intervals per group, decisions and click rate over time."""
    page = HtmlReport("Served decisions: KPIs")
    page.paragraph(
        f"Source: {source}. Rates are shares of decisions with at least one click (conversion) reported within "
        "the attribution window of `training join`; intervals are 95 % Wilson intervals for rates and Student-t "
        "intervals for revenue per decision."
    )
    page.heading("KPIs per group")
    page.table(shown_table(kpis), label_columns=2)
    for dimension in PLOTTED:
        rows = kpis[kpis["dimension"] == dimension]
        if not rows.empty:
            page.figure(rate_intervals(rows, dimension), f"click rate per {dimension} (95 % Wilson interval)")
    page.heading("Over time")
    page.figure(decisions_over_time(over_time), "decisions per time bucket and tier")
    page.figure(click_rate_over_time(over_time), "click rate per time bucket, all tiers")
    return page.write(path)


def rate_intervals(rows: pd.DataFrame, dimension: str) -> Figure:
    """Each group's click rate (dot) and Wilson interval (bar), largest groups first."""
    shown = rows.sort_values("decisions", ascending=False).head(MAX_GROUPS_SHOWN)
    figure = new_figure(7.0, 1.0 + 0.35 * len(shown))
    axes = figure.add_subplot()
    y = np.arange(len(shown))
    axes.hlines(y, shown["click_low"], shown["click_high"], color="C0", linewidth=3)
    axes.plot(shown["click_rate"], y, "o", color="black", markersize=4)
    axes.set_yticks(y, [f"{v} (n={n:,})" for v, n in zip(shown["value"], shown["decisions"], strict=True)])
    axes.invert_yaxis()
    axes.set_xlabel("click rate")
    axes.set_title(dimension, loc="left", fontsize="medium")
    figure.tight_layout()
    return figure


def decisions_over_time(over_time: pd.DataFrame) -> Figure:
    figure = new_figure(8.0, 3.2)
    axes = figure.add_subplot()
    for j, (tier, part) in enumerate(over_time.groupby("tier", sort=True)):
        axes.plot(
            part["bucket"].dt.tz_localize(None), part["decisions"], "o-", color=f"C{j}", label=str(tier), markersize=3
        )
    axes.set_ylabel("decisions")
    axes.legend(loc="best", fontsize="small")
    _time_axis(axes, over_time["bucket"])
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure


def click_rate_over_time(over_time: pd.DataFrame) -> Figure:
    totals = over_time.groupby("bucket", sort=True)[["decisions", "clicks"]].sum()
    figure = new_figure(8.0, 3.2)
    axes = figure.add_subplot()
    buckets = pd.DatetimeIndex(totals.index).tz_localize(None)
    axes.plot(buckets, totals["clicks"] / totals["decisions"], "o-", color="C0", markersize=3)
    axes.set_ylabel("click rate")
    _time_axis(axes, over_time["bucket"])
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure


def _time_axis(axes: Axes, buckets: pd.Series) -> None:
    """One bucket only: an hour either side (matplotlib would span years around a single date)."""
    if buckets.nunique() == 1:
        only = buckets.iloc[0].tz_localize(None)
        axes.set_xlim(only - pd.Timedelta(hours=1), only + pd.Timedelta(hours=1))
