"""`training simulate`'s body: the options reach the simulation, the summary is printed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.training.traffic.fake_api import FakeApi
from training.traffic.command import run_simulate


def test_users_from_a_generated_world_are_simulated_and_the_summary_printed(world_dir: Path, tmp_path: Path) -> None:
    api = FakeApi()
    printed: list[str] = []
    summary = run_simulate(
        "localhost:50051",
        decisions=400,
        seed=2,
        plants=["content=generic_home_hero,segment=loyal,lift=0.2"],
        max_seconds=None,
        out=tmp_path / "truth.parquet",
        users=10,
        users_from_dir=world_dir,
        consent_share=0.5,
        world_seed=3,
        batch_size=100,
        max_results=1,
        echo=printed.append,
        api=api,
    )
    world_ids = set(pd.read_csv(world_dir / "users.csv")["user_id"])
    assert {o.user_id for o in api.outcomes if o.user_id} <= world_ids
    assert len({o.user_id for o in api.outcomes if o.user_id}) > 10  # the world's users, not 10 drawn ones
    assert printed == [summary.table()]
    assert len(pd.read_parquet(tmp_path / "truth.parquet")) == 400
    assert 0.35 < summary.truths["consent"].mean() < 0.65
