"""The soak's outputs: the terminal tables, memory.png, soak.html and soak.json under the output folder."""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bench.soak.verdict import OVERALL, Flatness, run_quarters
from training.report.html import HtmlReport, new_figure
from training.report.table import render_frame

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MARKERS = {"decisions": "o", "reloads": "s", "swaps": "^"}
SECONDS_AXIS_UP_TO = 600.0  # shorter runs are plotted in seconds, longer ones in minutes
UNITS = {"decisions": "decision", "reloads": "reload", "swaps": "swap", OVERALL: "hour"}


def verdict_frame(found: Sequence[Flatness], targets: Mapping[str, int], counts: Mapping[str, int]) -> pd.DataFrame:
    """One row per load and one overall: the two quarters compared and what they say."""
    rows = []
    for f in found:
        growing = f.growing()
        shown = "flat" if f.flat else ("incomplete" if not f.complete else "NOT FLAT: " + ", ".join(growing))
        rows.append(
            {
                "load": f.name,
                "target": f"{targets[f.name]:,}" if f.name in targets else "",
                "done": f"{counts[f.name]:,}" if f.name in targets else "",
                "Q2 RSS MiB": f.q2.rss_mib,
                "Q4 RSS MiB": f.q4.rss_mib,
                "change %": 100 * f.change,
                "growth KiB": f.growth_kib_per_unit,
                "per": UNITS[f.name],
                "threads Q2->Q4": f"{f.q2.threads:.0f} -> {f.q4.threads:.0f}" if f.complete else "",
                "fds Q2->Q4": f"{f.q2.fds:.0f} -> {f.q4.fds:.0f}" if f.complete else "",
                "verdict": shown,
            }
        )
    return pd.DataFrame(rows)


def text(quarters: pd.DataFrame, verdicts: pd.DataFrame) -> str:
    """Both tables as the terminal and table.txt show them."""
    return render_frame(quarters, text_columns=1, digits=1) + "\n\n" + render_frame(verdicts, text_columns=1, digits=2)


def plot(
    data: pd.DataFrame, marks: Mapping[str, Sequence[float]], targets: Mapping[str, int], start: float, title: str
) -> Figure:
    """RSS over the run with each load's quarter marks; threads and fds; each load's progress."""
    figure = new_figure(9, 8)
    memory, handles, progress = figure.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1, 1.3]})
    end = float(data.t.iloc[-1])
    unit, scale = ("minutes", 60.0) if end > SECONDS_AXIS_UP_TO else ("seconds", 1.0)
    x = data.t / scale
    memory.plot(x, data.rss_mib, color="tab:blue", linewidth=1, label="RSS")
    for number, (a, b) in enumerate(run_quarters(start, end), start=1):
        if number in (2, 4):
            memory.axvspan(a / scale, b / scale, color="0.9", zorder=0)
            inside = data[(data.t > a) & (data.t <= b)]
            if len(inside):
                level = inside.rss_mib.mean()
                memory.hlines(level, a / scale, b / scale, colors="tab:red", linewidth=1.5)
                memory.annotate(f"Q{number} mean {level:,.0f} MiB", (a / scale, level), fontsize=8, va="bottom")
    for name, times in marks.items():
        if len(times) > 1:
            ys = np.interp(times[1:], data.t, data.rss_mib)
            xs = [t / scale for t in times[1:]]
            memory.scatter(xs, ys, marker=MARKERS.get(name, "x"), s=30, zorder=3, label=f"{name} 25/50/75/100 %")
    memory.axvline(start / scale, color="0.5", linestyle="--", linewidth=1, label="loads start")
    memory.set_ylabel("RSS MiB")
    memory.set_title(textwrap.fill(title, 110), fontsize=8)
    memory.legend(fontsize=8, loc="lower right")
    handles.plot(x, data.threads, label="threads")
    handles.plot(x, data.fds, label="open fds")
    handles.set_ylabel("count")
    handles.legend(fontsize=8, loc="lower right")
    for name, target in targets.items():
        progress.plot(x, 100 * data[name] / max(target, 1), label=name)
    progress.set_ylabel("% done")
    progress.set_xlabel(f"{unit} since the server started")
    progress.legend(fontsize=8, loc="upper left")
    return figure


def write(
    out: Path,
    headline: str,
    quarters: pd.DataFrame,
    verdicts: pd.DataFrame,
    figure: Figure,
    document: dict[str, Any],
    notes: Sequence[str],
) -> list[Path]:
    """table.txt, memory.png, soak.html (tables, plot, notes) and soak.json; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    table = out / "table.txt"
    table.write_text(headline + "\n\n" + text(quarters, verdicts) + "\n" + "".join(f"\n{n}" for n in notes) + "\n")
    png = out / "memory.png"
    figure.savefig(png, dpi=110, bbox_inches="tight")
    page = HtmlReport("Soak: memory under traffic, rule reloads and model swaps")
    page.paragraph(headline)
    page.heading("Quarters of the run")
    page.table(quarters, label_columns=1, digits=1)
    page.heading("Flatness (last quarter's mean RSS against the second's)")
    page.table(verdicts, label_columns=1, digits=2)
    page.figure(figure, "Resident memory of the server over the run (Q2 and Q4 shaded, their means in red)")
    for note in notes:
        page.paragraph(note)
    html = page.write(out / "soak.html")
    report = out / "soak.json"
    report.write_text(json.dumps(document, indent=1, default=_plain, allow_nan=False) + "\n")
    return [table, png, html, report]


def _plain(value: object) -> object:
    """JSON for what json cannot write itself (numpy numbers, paths)."""
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows as JSON objects; NaN becomes null."""
    rows = frame.to_dict(orient="records")
    return [{str(k): (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()} for row in rows]
