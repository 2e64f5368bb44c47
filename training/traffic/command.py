"""The body of `training simulate`: options in, a simulation against a local server, its summary out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from training.traffic.driver import simulate
from training.traffic.exchange import DecisionApi
from training.traffic.summary import SimulationSummary
from training.traffic.world_users import users_from

Echo = Callable[[str], None]


def run_simulate(
    target: str,
    decisions: int,
    seed: int,
    plants: Sequence[str],
    max_seconds: float | None,
    out: Path | None,
    users: int,
    users_from_dir: Path | None,
    consent_share: float,
    world_seed: int,
    batch_size: int,
    max_results: int,
    echo: Echo,
    api: DecisionApi | None = None,
) -> SimulationSummary:
    """Run `simulate` with the command's options and print its summary (`api`: a fake server, in tests).

    With `users_from_dir`, `world_seed` should be the seed that world was generated with,
    so the truth's utility is the one its users' clicks came from.
    """
    population = users_from(users_from_dir, seed, consent_share) if users_from_dir is not None else None
    summary = simulate(
        target,
        decisions,
        seed,
        plants,
        max_seconds,
        out,
        users=users,
        population=population,
        consent_share=consent_share,
        world_seed=world_seed,
        batch_size=batch_size,
        max_results=max_results,
        api=api,
    )
    echo(summary.table())
    return summary
