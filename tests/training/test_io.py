"""Loading: ordinary user ids become user keys; keyed events (served traffic) are appended without a second HMAC."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.training.conftest import TEST_KEYS
from training.io import DataPaths, Inputs, KeyedEvents, load


def keyed(user_key: str, *content: str, when: str = "2026-12-01T12:00:00Z") -> KeyedEvents:
    return KeyedEvents(
        pd.DataFrame(
            {
                "user_id": [user_key] * len(content),
                "timestamp": [when] * len(content),
                "event_type": ["view"] * len(content),
                "content_id": list(content),
                "placement": ["home_banner"] * len(content),
            }
        ),
        "served test events",
    )


def test_keyed_events_keep_their_keys_and_join_the_pseudonymized_log(world_dir: Path, inputs: Inputs) -> None:
    raw_user = str(pd.read_parquet(world_dir / "events.parquet", columns=["user_id"])["user_id"].iloc[0])
    key = TEST_KEYS(raw_user)
    content = inputs.catalog.content_ids[:2]
    loaded = load(DataPaths.in_dir(world_dir), TEST_KEYS, keyed=[keyed(key, *content)])
    assert loaded.keyed_events == 2
    assert len(loaded.events) == len(inputs.events) + 2
    mine = loaded.events[loaded.events["user_id"] == key]
    assert len(mine) == len(inputs.events[inputs.events["user_id"] == key]) + 2  # the same user, not a stranger
    assert mine["timestamp"].is_monotonic_increasing
    assert (loaded.events["user_id"] != TEST_KEYS(key)).all()  # never hashed twice
    assert raw_user not in set(loaded.events["user_id"])
    served = mine[mine["timestamp"] == pd.Timestamp("2026-12-01T12:00:00Z")]
    categories = {item.content_id: item.category for item in inputs.catalog.items}
    assert served["category"].tolist() == [categories[c] for c in content]  # taken from the catalog
    assert loaded.fingerprint == inputs.fingerprint  # no files named: nothing new to fingerprint


def test_keyed_files_enter_the_fingerprint_and_empty_sources_are_skipped(world_dir: Path, tmp_path: Path) -> None:
    source_file = tmp_path / "served.parquet"
    source_file.write_bytes(b"served")
    with_file = KeyedEvents(keyed("k", "x").events, "served", (source_file,))
    empty = KeyedEvents(keyed("k").events, "nothing served")
    loaded = load(DataPaths.in_dir(world_dir), TEST_KEYS, keyed=[with_file, empty])
    assert loaded.keyed_events == 1
    assert loaded.fingerprint != load(DataPaths.in_dir(world_dir), TEST_KEYS).fingerprint


def test_forgotten_users_are_left_out_entirely(world_dir: Path, inputs: Inputs) -> None:
    raw_user = str(pd.read_parquet(world_dir / "events.parquet", columns=["user_id"])["user_id"].iloc[0])
    key = TEST_KEYS(raw_user)
    assert (inputs.events["user_id"] == key).any()
    loaded = load(DataPaths.in_dir(world_dir), TEST_KEYS, forgotten={key})
    assert not (loaded.events["user_id"] == key).any()
    assert len(loaded.events) == len(inputs.events) - int((inputs.events["user_id"] == key).sum())
