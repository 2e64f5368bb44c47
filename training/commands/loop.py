"""`training simulate|join|kpi`: drive a server with known users, match outcomes to decisions, report KPIs."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import click

from training import defaults
from training.commands.common import friendly


@click.command()
@click.option("--target", default="127.0.0.1:50051", show_default=True, help="The server (loopback only).")
@click.option("--decisions", type=click.IntRange(1), default=10_000, show_default=True)
@click.option("--max-seconds", type=click.FloatRange(0, min_open=True), help="Stop after this long.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--plant",
    "plants",
    multiple=True,
    metavar="SPEC",
    help="A known lift, repeatable: content=home-3,segment=loyal,lift=0.10 (segment optional).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("var/simulation/truth.parquet"),
    show_default=True,
    help="Ground truth of every decision (true click probability, what the user did).",
)
@click.option("--users", type=click.IntRange(1), default=10_000, show_default=True, help="Synthetic users.")
@click.option(
    "--users-from",
    "users_from_dir",
    type=click.Path(path_type=Path),
    help="Use a generated world's users instead (a `training generate` folder).",
)
@click.option("--consent-share", type=click.FloatRange(0, 1), default=0.9, show_default=True)
@click.option(
    "--world-seed", type=int, default=defaults.SEED, show_default=True, help="The generator seed of the world."
)
@click.option("--batch-size", type=click.IntRange(1, 1000), default=64, show_default=True)
@click.option("--max-results", type=click.IntRange(1, 50), default=1, show_default=True)
@friendly
def simulate(
    target: str,
    decisions: int,
    max_seconds: float | None,
    seed: int,
    plants: tuple[str, ...],
    out: Path,
    users: int,
    users_from_dir: Path | None,
    consent_share: float,
    world_seed: int,
    batch_size: int,
    max_results: int,
) -> None:
    """Ask the server for decisions for synthetic users, report what they did, write the ground truth."""
    from training.traffic.command import run_simulate

    run_simulate(
        target, decisions, seed, plants, max_seconds, out, users, users_from_dir, consent_share,
        world_seed, batch_size, max_results, click.echo,
    )  # fmt: skip


@click.command()
@click.option(
    "--decisions",
    multiple=True,
    default=("var/decisions*.jsonl",),
    show_default=True,
    metavar="PATH|GLOB",
    help="Decision log files or globs, repeatable; every file is read before joining.",
)
@click.option(
    "--outcomes",
    multiple=True,
    default=("var/outcomes*.jsonl",),
    show_default=True,
    metavar="PATH|GLOB",
    help="Outcome log files or globs, repeatable.",
)
@click.option("--out", type=click.Path(path_type=Path), default=Path("var/joined.parquet"), show_default=True)
@click.option("--items-out", type=click.Path(path_type=Path), help="Item table (default <out stem>.items.parquet).")
@click.option(
    "--summary-out", type=click.Path(path_type=Path), help="What could not be joined (default <out stem>.summary.json)."
)
@click.option(
    "--window-minutes",
    type=click.FloatRange(0, min_open=True),
    default=30.0,
    show_default=True,
    help="Attribution window.",
)
@click.option(
    "--skew-minutes",
    type=click.FloatRange(0),
    default=5.0,
    show_default=True,
    help="Outcomes up to this long before their decision still count (client clocks).",
)
@click.option("--reward", type=click.Choice(["click", "conversion", "revenue"]), default="click", show_default=True)
@click.option(
    "--default-reward",
    type=float,
    default=0.0,
    show_default=True,
    help="Reward of a decision with no outcome in its window (nan = unknown).",
)
@click.option(
    "--outcome-time",
    type=click.Choice(["occurred", "received"]),
    default="occurred",
    show_default=True,
    help="occurred: the client's time (else the server's); received: the server's only.",
)
@friendly
def join(
    decisions: tuple[str, ...],
    outcomes: tuple[str, ...],
    out: Path,
    items_out: Path | None,
    summary_out: Path | None,
    window_minutes: float,
    skew_minutes: float,
    reward: Literal["click", "conversion", "revenue"],
    default_reward: float,
    outcome_time: Literal["occurred", "received"],
) -> None:
    """Match outcomes to the decisions they followed: one row per decision (and per shown item), Parquet."""
    from training.served.command import run_join

    run_join(
        decisions, outcomes, out, items_out, summary_out, window_minutes, skew_minutes, reward,
        default_reward, outcome_time, echo=click.echo,
    )  # fmt: skip


@click.command()
@click.option("--joined", type=click.Path(path_type=Path), default=Path("var/joined.parquet"), show_default=True)
@click.option("--html", type=click.Path(path_type=Path), default=Path("var/reports/kpi.html"), show_default=True)
@click.option(
    "--by",
    multiple=True,
    type=click.Choice(["tier", "rule", "model", "placement", "segment", "arm"]),
    help="Breakdowns, repeatable (default: all).",
)
@friendly
def kpi(joined: Path, html: Path, by: tuple[str, ...]) -> None:
    """Decisions, click and conversion rates and revenue per decision, with intervals, per tier, rule, model..."""
    from training.served.command import run_kpi

    run_kpi(joined, html, by or ("tier", "rule", "model", "placement", "segment", "arm"), echo=click.echo)
