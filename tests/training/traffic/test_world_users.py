"""Users taken from a generated world: its users table, histories counted from its event log."""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.training.conftest import SMALL_EVENTS
from training.generate import World
from training.schema import EventLogError
from training.traffic.world_users import users_from
from training.truth import CONTENT_VOCAB


def test_users_keep_the_worlds_ids_segments_and_click_history(world_dir: Path) -> None:
    users = users_from(world_dir, seed=1)
    table = pd.read_csv(world_dir / "users.csv")
    events = pd.read_parquet(world_dir / "events.parquet")
    assert [u.user_id for u in users] == table["user_id"].tolist()
    assert [(u.segment, u.region, u.device) for u in users] == list(
        table[["segment", "region", "device"]].itertuples(index=False, name=None)
    )
    for user in users[:20]:
        mine = events[events["user_id"] == user.user_id]
        clicks = mine[mine["event_type"] == "click"]["content_id"].value_counts()
        assert user.clicks.tolist() == [float(clicks.get(c, 0)) for c in CONTENT_VOCAB]
        assert user.spend == pytest.approx(mine.loc[mine["event_type"] == "purchase", "value"].sum())
        assert user.last_seen == mine["timestamp"].max().to_pydatetime()
        assert user.sessions >= 1


class TasteRecordingWorld(World):
    """The generator, keeping each user's true taste (it is not written to any file)."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.tastes: dict[str, np.ndarray] = {}

    def _session(self, user: Any, t: datetime) -> None:
        self.tastes[user.user_id] = user.taste
        super()._session(user, t)


def test_the_taste_estimate_finds_the_generators_taste(world_dir: Path) -> None:
    """The favourite category by estimate is the true favourite for most users with a dozen views or more."""
    world = TasteRecordingWorld(seed=3)
    world.run(SMALL_EVENTS)  # the fixture's world again
    users = users_from(world_dir, seed=1)
    views = pd.read_parquet(world_dir / "events.parquet").query("event_type == 'view'").groupby("user_id").size()
    judged = [u for u in users if views.get(u.user_id, 0) >= 12]
    agree = [np.argmax(u.taste) == np.argmax(world.tastes[u.user_id]) for u in judged]
    assert len(judged) > 20
    assert np.mean(agree) > 0.7


def test_consent_is_drawn_from_the_seed(world_dir: Path) -> None:
    first, again = users_from(world_dir, seed=4, consent_share=0.5), users_from(world_dir, seed=4, consent_share=0.5)
    assert [u.consent for u in first] == [u.consent for u in again]
    assert 0 < sum(u.consent for u in first) < len(first)


def test_a_value_the_world_does_not_know_is_named_with_its_row(world_dir: Path, tmp_path: Path) -> None:
    for name in ("events.parquet", "catalog.json"):
        shutil.copy(world_dir / name, tmp_path / name)
    table = pd.read_csv(world_dir / "users.csv")
    table.loc[2, "region"] = "FR"
    table.to_csv(tmp_path / "users.csv", index=False)
    with pytest.raises(EventLogError, match=re.escape("row 3, column 'region': got 'FR', expected one of DE|US|JP|BR")):
        users_from(tmp_path, seed=1)
    (tmp_path / "users.csv").unlink()
    with pytest.raises(EventLogError, match=re.escape("no users.csv|parquet here")):
        users_from(tmp_path, seed=1)
