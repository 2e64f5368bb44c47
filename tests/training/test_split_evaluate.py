"""Temporal split and the evaluation metrics, on hand-checked numbers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from training.evaluate import evaluate, personal, popularity, ranked, score
from training.features import Dataset, build
from training.io import Inputs
from training.split import temporal


def toy(y: list[int], k: int = 3) -> Dataset:
    n = len(y)
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
    return Dataset(
        np.zeros((n, 2)),
        np.array(y),
        tuple("abc"[:k]),
        np.ones((n, k), dtype=bool),
        np.zeros((n, k), dtype=np.float32),
        meta,
    )


def test_score_by_hand() -> None:
    probs = np.array([[0.7, 0.2, 0.1], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    result = score(probs, np.array([0, 1, 2]))
    assert result["top1"] == pytest.approx(1 / 3)
    assert result["top3"] == 1.0
    assert result["ndcg3"] == pytest.approx((1 + 1 / math.log2(3) + 1 / 2) / 3)
    assert result["log_loss"] == pytest.approx(-(math.log(0.7) + math.log(0.3) + math.log(0.1)) / 3)


def test_ties_never_favour_the_label() -> None:
    assert score(np.full((1, 3), 1 / 3), np.array([2]))["top1"] == 0.0


def test_ineligible_content_is_masked_and_renormalized() -> None:
    probs = ranked(np.array([[0.5, 0.3, 0.2]]), np.array([[False, True, True]]))
    np.testing.assert_allclose(probs, [[0.0, 0.6, 0.4]])


def test_baselines_and_segments() -> None:
    train, test = toy([0, 0, 1]), toy([0, 2])
    test.past_clicks[1, 2] = 3  # the second user clicked c before
    pop = popularity(train)
    assert pop.argmax() == 0
    result = evaluate(test, {"popularity": pop, "personal": personal(test, pop)})
    assert result.overall["popularity"]["top1"] == 0.5
    assert result.overall["personal"]["top1"] == 1.0
    seg = result.segments.set_index(["segment", "value"])
    assert seg.loc[("user", "new"), "rows"] == 1
    assert "popularity" in result.table()


def test_temporal_split_keeps_time_order(inputs: Inputs) -> None:
    dataset, _ = build(inputs.events, inputs.catalog)
    split = temporal(dataset, 0.2, 0.2)
    assert len(split.train) + len(split.valid) + len(split.test) == len(dataset)
    assert split.train.meta["timestamp"].max() < split.valid.meta["timestamp"].min()
    assert split.valid.meta["timestamp"].max() < split.test.meta["timestamp"].min()
    assert len(split.test) == pytest.approx(0.2 * len(dataset), abs=3)


def test_split_refuses_bad_fractions_and_tiny_data() -> None:
    with pytest.raises(ValueError, match="must be in"):
        temporal(toy([0, 1, 2]), 0.6, 0.5)
    with pytest.raises(ValueError, match="too few"):
        temporal(toy([0, 1]), 0.15, 0.15)
