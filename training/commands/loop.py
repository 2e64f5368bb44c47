"""`training simulate`: drive a running server with synthetic users whose behaviour is known."""

from __future__ import annotations

from pathlib import Path

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
