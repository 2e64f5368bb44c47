"""What a regret study shows: the summary table in the terminal, and an HTML page with regret over time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from training.bandits.regret import RegretRun
from training.report.html import HtmlReport, new_figure
from training.report.table import render_frame


def regret_table(run: RegretRun) -> str:
    """The summary per mode, under a line saying what was simulated."""
    return f"{_heading(run)}\n\n{render_frame(run.frame(), text_columns=1, digits=3)}"


def write_regret_report(run: RegretRun, path: Path) -> Path:
    """The page: summary, cumulative regret over time, and the vectors each mode published last."""
    report = HtmlReport("Bandit allocation: cumulative regret")
    report.paragraph(_heading(run))
    report.table(run.frame(), digits=3)
    figure = new_figure(7.5, 4.0)
    axes = figure.add_subplot()
    for mode in run.cumulative.columns:
        axes.plot(run.cumulative.index, run.cumulative[mode], label=mode)
    axes.set_xlabel("decisions")
    axes.set_ylabel("cumulative expected regret (clicks lost)")
    axes.legend()
    report.figure(figure, "Cumulative regret against always showing each segment's best arm.")
    report.heading("Arm rates and the last published probabilities")
    report.table(_final_vectors(run), label_columns=2, digits=3)
    return report.write(path)


def report_regret(run: RegretRun, html: Path, echo: Callable[[str], None]) -> Path:
    """Print the table and write the page (for the command line)."""
    echo(regret_table(run))
    written = write_regret_report(run, html)
    echo(f"report: {written}")
    return written


def _heading(run: RegretRun) -> str:
    arms = sum(len(r) for r in run.arm_rates.values())
    return (
        f"{run.decisions:,} simulated decisions over {len(run.arm_rates)} segments ({arms} arms in all), "
        f"state refreshed every {run.refresh:,} decisions, seed {run.seed}; same segments and random numbers "
        "for every mode. Regret: best arm's rate minus the chosen arm's rate, summed."
    )


def _final_vectors(run: RegretRun) -> pd.DataFrame:
    rows = []
    for segment, rates in run.arm_rates.items():
        for arm, rate in enumerate(rates):
            row: dict[str, object] = {"segment": segment, "arm": f"arm {arm}", "click rate": rate}
            row.update({mode: vectors[segment][arm] for mode, vectors in run.final_probabilities.items()})
            rows.append(row)
    return pd.DataFrame(rows)
