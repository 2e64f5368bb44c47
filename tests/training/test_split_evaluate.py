"""Temporal split and the ranking metrics, on hand-checked numbers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from decision.sources.features import FEATURE_NAMES
from training.evaluate import baselines, evaluate, hits, ranks
from training.features import Dataset, build
from training.io import Inputs
from training.spec import learn
from training.split import cuts, temporal


def toy(sizes: list[int], label_rows: list[int]) -> Dataset:
    """Decisions with the given numbers of candidate rows and label positions (-1: not a candidate)."""
    n = len(sizes)
    meta = pd.DataFrame(
        {
            "user_id": [f"u{i % 2}" for i in range(n)],
            "timestamp": pd.date_range("2026-01-01", periods=n, freq="h", tz="UTC"),
            "region": "DE",
            "device": "mobile",
            "placement": "home_banner",
            "returning": [i > 0 for i in range(n)],
        }
    )
    starts = np.concatenate([[0], np.cumsum(sizes)])
    items = np.concatenate([np.arange(s) for s in sizes]) if n else np.zeros(0, dtype=np.int64)
    X = np.zeros((int(starts[-1]), len(FEATURE_NAMES)))
    return Dataset(X, items, starts, np.zeros(n, dtype=np.int64), np.array(label_rows), meta)


def test_ranks_by_hand() -> None:
    data = toy([3, 3, 2], [0, 2, 1])
    scores = np.array([0.7, 0.2, 0.1, 0.2, 0.3, 0.5, 0.6, 0.3])
    assert ranks(data, scores).tolist() == [0, 0, 1]
    per = hits(ranks(data, scores))
    assert per[:, 0].tolist() == [1, 1, 0]
    assert per[:, 3].tolist() == pytest.approx([1, 1, 1 / math.log2(3)])


def test_ties_never_favour_the_label_and_missing_labels_are_misses() -> None:
    data = toy([3, 2], [2, -1])
    rank = ranks(data, np.full(5, 0.5))
    assert rank[0] == 2
    assert hits(rank)[1].tolist() == [0, 0, 0, 0]


def test_baselines_rank_by_point_in_time_popularity_recency_and_history() -> None:
    data = toy([3], [1])
    columns = {name: FEATURE_NAMES.index(name) for name in ("item_popularity", "item_recent_popularity", "item_clicks")}
    data.X[:, columns["item_popularity"]] = [0.5, 0.3, 0.2]
    data.X[:, columns["item_recent_popularity"]] = [0.1, 0.1, 0.8]
    data.X[:, columns["item_clicks"]] = [0, 2, 0]
    methods = baselines(data)
    assert {name: int(ranks(data, scores)[0]) for name, scores in methods.items()} == {
        "popularity": 1,
        "recent_popularity": 2,  # item 2 is recent, then popularity breaks the tie between 0 and 1
        "personal": 0,
    }


def test_evaluation_table_intervals_and_segments() -> None:
    rng = np.random.default_rng(0)
    data = toy([4] * 400, rng.integers(0, 4, 400).tolist())
    perfect = np.zeros(len(data.items))
    perfect[data.starts[:-1] + data.label_row] = 1.0
    coin = rng.random(len(data.items))
    result = evaluate(data, {"perfect": perfect, "random": coin})
    assert result.overall["perfect"] == {"hr1": 1.0, "hr3": 1.0, "hr5": 1.0, "ndcg3": 1.0}
    low, high = result.intervals["random"]["hr1"]
    assert low < result.overall["random"]["hr1"] < high
    assert low < 0.25 < high  # a random ranking of four hits a quarter of the time
    # the interval is about as wide as the normal approximation's for a proportion
    p = result.overall["random"]["hr1"]
    half = scipy_stats.norm.ppf(0.975) * math.sqrt(p * (1 - p) / 400)
    assert high - low == pytest.approx(2 * half, rel=0.25)
    seg = result.segments.set_index(["segment", "value"])
    assert seg.loc[("user", "new"), "rows"] == 1
    assert "[95 % bootstrap interval]" in result.table()


def test_temporal_split_keeps_time_order(inputs: Inputs) -> None:
    dataset = build(inputs.events, inputs.catalog, learn(inputs.events, inputs.catalog)).dataset
    split = temporal(dataset, 0.2, 0.2)
    assert len(split.train) + len(split.valid) + len(split.test) == len(dataset)
    assert split.train.meta["timestamp"].max() < split.valid.meta["timestamp"].min()
    assert split.valid.meta["timestamp"].max() < split.test.meta["timestamp"].min()
    assert len(split.test) == pytest.approx(0.2 * len(dataset), abs=3)
    assert len(split.test.items) == int(dataset.sizes[-len(split.test) :].sum())
    first = len(dataset) - len(split.test)
    np.testing.assert_array_equal(split.test.X, dataset.X[dataset.starts[first] :])


def test_split_refuses_bad_fractions_and_tiny_data() -> None:
    with pytest.raises(ValueError, match="must be in"):
        temporal(toy([1, 1, 1], [0, 0, 0]), 0.6, 0.5)
    with pytest.raises(ValueError, match="too few"):
        temporal(toy([1, 1], [0, 0]), 0.15, 0.15)
    with pytest.raises(ValueError, match="too few"):
        cuts(np.zeros(0), 0.15, 0.15)
