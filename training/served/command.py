"""What `training join` and `training kpi` do, as functions the click commands call.

No option parsing here (that stays in training/cli.py) and no printing of its own: the
caller passes `echo` (click.echo), so the functions run the same in tests and notebooks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from training.served.join import JoinOptions, OutcomeTime, Reward, join_files
from training.served.kpi import DIMENSIONS, kpi_table, read_for_kpi, timeline
from training.served.kpi_report import terminal_table, write_kpi_report
from training.served.logs import expand
from training.served.summary import JoinSummary
from training.served.tables import items_path, summary_path, write_table

Echo = Callable[[str], None]

DEFAULT_DECISIONS = ("var/decisions*.jsonl",)
DEFAULT_OUTCOMES = ("var/outcomes*.jsonl",)
DEFAULT_JOINED = Path("var/joined.parquet")
DEFAULT_KPI_HTML = Path("var/reports/kpi.html")


def run_join(
    decisions: Sequence[str] = DEFAULT_DECISIONS,
    outcomes: Sequence[str] = DEFAULT_OUTCOMES,
    out: Path = DEFAULT_JOINED,
    items_out: Path | None = None,
    summary_out: Path | None = None,
    window_minutes: float = 30.0,
    skew_minutes: float = 5.0,
    reward: Reward = "click",
    default_reward: float = 0.0,
    outcome_time: OutcomeTime = "occurred",
    echo: Echo = lambda line: None,
    progress: bool = True,
) -> JoinSummary:
    """`training join`: read every decision and outcome log (paths or globs), join, write three files.

    Writes the joined table (`out`, one row per decision), the item table (`items_out`,
    default `<out stem>.items.parquet`, one row per shown item) and the summary of what
    could not be joined (`summary_out`, default `<out stem>.summary.json`); prints the summary.
    """
    options = JoinOptions(
        window=timedelta(minutes=window_minutes),
        skew=timedelta(minutes=skew_minutes),
        reward=reward,
        default_reward=default_reward,
        outcome_time=outcome_time,
    )
    decision_paths, outcome_paths = expand(decisions), expand(outcomes)
    with tqdm(desc="reading logs", unit="rec", disable=not progress) as bar:
        joined = join_files(decision_paths, outcome_paths, options, bar.update)
    written = [
        write_table(joined.decisions, out),
        write_table(joined.items, items_out or items_path(out)),
        joined.summary.write(summary_out or summary_path(out)),
    ]
    for line in joined.summary.lines():
        echo(line)
    for path in written:
        echo(f"wrote {path}")
    return joined.summary


def run_kpi(
    joined: Path = DEFAULT_JOINED,
    html: Path = DEFAULT_KPI_HTML,
    by: Sequence[str] = tuple(DIMENSIONS),
    echo: Echo = lambda line: None,
) -> pd.DataFrame:
    """`training kpi`: KPIs of the served decisions per group, printed and written as an HTML page.

    `by` chooses the groupings (tier, rule, model, placement, segment, arm); returns the
    KPI rows (one for all decisions first).
    """
    frame = read_for_kpi(joined)
    kpis = kpi_table(frame, by)
    echo(terminal_table(kpis))
    echo(f"report: {write_kpi_report(kpis, timeline(frame), str(joined), html)}")
    return kpis
