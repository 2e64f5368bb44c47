"""The joined decision table as logged feedback: items or one experiment's arms, with clear refusals."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from training.ope.joined import CONTEXT_COLUMNS, read_joined
from training.ope.logged import LogError


def joined_table(path: Path) -> Path:
    """A few decisions with the joined table's columns (only those OPE reads, plus a couple it ignores)."""
    frame = pd.DataFrame(
        {
            "decision_id": [f"d{i}" for i in range(6)],
            "placement": ["home", "home", "cart", "cart", "home", "cart"],
            "region": ["EU", "EU", "US", "US", "EU", ""],
            "device": ["mobile"] * 6,
            "channel": ["web"] * 6,
            "segment": ["new", "loyal", "new", "new", "", "loyal"],
            "source": ["EXPERIMENT", "EXPERIMENT", "EXPERIMENT", "MODEL", "RULE", "EXPERIMENT"],
            "experiment_id": ["hero", "hero", "hero", "", "", "banner"],
            "arm": ["A", "B", "B", "", "", "X"],
            "arm_probability": [0.5, 0.5, 0.5, 1.0, 1.0, 0.3],
            "content_id": ["c1", "c2", "c2", "c3", "c9", "c1"],
            "item_probability": [0.2, 0.4, 0.4, 0.7, 1.0, 0.1],
            "reward": [1.0, 0.0, 1.0, 0.0, 0.0, 1.0],
        }
    )
    frame.to_parquet(path)
    return path


def test_items_are_read_with_their_item_probability_and_the_five_context_columns(tmp_path: Path) -> None:
    logged = read_joined(joined_table(tmp_path / "joined.parquet"))
    assert logged.decisions == 6
    assert logged.actions == ("c1", "c2", "c3", "c9")
    assert logged.propensity.tolist() == [0.2, 0.4, 0.4, 0.7, 1.0, 0.1]
    assert list(logged.contexts.columns) == list(CONTEXT_COLUMNS)
    model_only = read_joined(tmp_path / "joined.parquet", sources=["MODEL", "EXPERIMENT"])
    assert model_only.decisions == 5


def test_arms_are_read_for_one_named_experiment(tmp_path: Path) -> None:
    path = joined_table(tmp_path / "joined.parquet")
    logged = read_joined(path, action="arm", experiment_id="hero")
    assert logged.actions == ("A", "B")
    assert logged.propensity.tolist() == [0.5, 0.5, 0.5]
    assert logged.reward.tolist() == [1.0, 0.0, 1.0]
    assert logged.source.endswith("(experiment hero)")
    with pytest.raises(
        LogError, match=r"name the experiment whose arms to evaluate .experiments in the table: banner, hero"
    ):
        read_joined(path, action="arm")
    with pytest.raises(LogError, match="no decisions of experiment 'nope'; experiments: banner, hero"):
        read_joined(path, action="arm", experiment_id="nope")


def test_a_missing_file_or_a_table_of_another_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LogError, match=r"joined table .*absent.parquet not found .write it with `training join`"):
        read_joined(tmp_path / "absent.parquet")
    other = tmp_path / "other.parquet"
    pd.DataFrame({"placement": ["home"], "reward": [1.0]}).to_parquet(other)
    with pytest.raises(LogError, match=r"missing column.s. region, device, channel, segment, content_id"):
        read_joined(other)
