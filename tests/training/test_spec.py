"""Learning the feature spec: vocabularies by minimum count, repeatability from the log."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from decision.sources.catalog import Catalog, CatalogItem
from training.io import Inputs
from training.spec import MIN_COUNT, frequent, learn, repeat_share, vocabulary


def events(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """(user, event_type, content) rows, one second apart, every column of the schema present."""
    frame = pd.DataFrame(rows, columns=["user_id", "event_type", "content_id"])
    frame["timestamp"] = pd.date_range("2026-01-01", periods=len(rows), freq="s", tz="UTC")
    for column in ("category", "region", "device", "channel", "placement"):
        frame[column] = None
    frame["value"] = float("nan")
    return frame


def catalog(*repeatable: bool | None) -> Catalog:
    return Catalog(CatalogItem(f"c{i}", "k", frozenset({"p"}), repeatable=r) for i, r in enumerate(repeatable))


def test_vocabulary_keeps_frequent_values_in_value_order() -> None:
    values = pd.Series(["b"] * 3 + ["a"] * 3 + ["c"] * 5 + ["rare"] + [None, "", " "] * 4)
    assert vocabulary(values, 3) == ("a", "b", "c")
    assert vocabulary(values, 6) == ()
    assert frequent(values, 3) == [("c", 5), ("a", 3), ("b", 3)]


def test_more_of_the_same_log_keeps_the_layout_when_frequencies_trade_places(inputs: Inputs) -> None:
    """A retrain on more data (served traffic appended) must stay comparable with its champion."""
    first = learn(inputs.events, inputs.catalog)
    counts = inputs.events["category"].value_counts()
    second, third = counts.index[1], counts.index[2]
    extra = inputs.events[inputs.events["category"] == third].head(int(counts[second] - counts[third]) + 1)
    more = pd.concat([inputs.events, extra], ignore_index=True)
    assert more["category"].value_counts().index[1] == third  # the two categories traded places
    assert learn(more, inputs.catalog).layout == first.layout


def test_the_learned_vocabularies_come_from_the_data(inputs: Inputs) -> None:
    spec = learn(inputs.events, inputs.catalog)
    seen = inputs.events["region"].value_counts()
    assert set(spec.regions) == set(seen[seen >= MIN_COUNT].index)
    assert spec.items == inputs.catalog.content_ids
    assert all(item not in spec.context_items for item in spec.items)
    assert spec.stats.follows.shape == (len(spec.items) + len(spec.context_items), len(spec.items))
    assert all(spec.repeatable)  # the generator's users come back to content they clicked


def test_content_is_repeatable_unless_users_almost_never_return_to_it() -> None:
    once = events([(f"u{i}", "click", f"c{i % 2}") for i in range(200)])
    again = events([(f"u{i % 20}", "click", f"c{i % 2}") for i in range(200)])
    assert repeat_share(once, catalog(None, None)) == 0.0
    assert repeat_share(again, catalog(None, None)) == pytest.approx(0.9)  # 20 users, one item each
    assert learn(once, catalog(None, None)).repeatable == (False, False)
    assert learn(again, catalog(None, None)).repeatable == (True, True)
    assert learn(once, catalog(True, None)).repeatable == (True, False)  # the catalog's flag wins
    assert learn(events([]), catalog(None)).repeatable == (True,)  # nothing to learn from: shown again


def test_other_frequent_content_becomes_context(tmp_path: Path) -> None:
    rows = [(f"u{i}", "click", "elsewhere") for i in range(MIN_COUNT)] + [("u1", "click", "seldom")]
    spec = learn(events(rows), catalog(None))
    assert spec.context_items == ("elsewhere",)
