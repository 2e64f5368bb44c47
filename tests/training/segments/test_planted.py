"""Planted vs discovered: ARI, the nearest-planted-mean and supervised reference points."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from training.segments.planted import MISSING, compare, planted_labels
from training.segments.selection import sweep


def test_well_separated_plants_are_recovered_and_reach_every_reference_point() -> None:
    points, truth_ix = make_blobs(n_samples=300, centers=3, n_features=2, cluster_std=0.5, random_state=2)
    truth = np.array(["a", "b", "c"])[truth_ix]
    scores = sweep(points, range(2, 5), seed=0, bootstrap=0)
    chosen = next(s for s in scores if s.k == 3)
    raw = pd.DataFrame(points, columns=["x", "y"])
    result = compare(truth, [f"s{i}" for i in chosen.labels], points, raw, scores, seed=0)
    assert result.ari == pytest.approx(1.0)
    assert result.ari_by_k[3] == pytest.approx(1.0)
    assert result.ari_by_k[2] < 1.0
    assert result.nearest_mean_ari == pytest.approx(1.0)
    assert result.supervised_ari == pytest.approx(1.0)
    assert result.confusion.to_numpy().max(axis=1).tolist() == [100, 100, 100]
    assert result.spread["users"].tolist() == [100, 100, 100]


def test_overlapping_plants_score_near_zero() -> None:
    rng = np.random.default_rng(0)
    points = rng.normal(size=(400, 2))
    truth = rng.choice(["a", "b"], size=400)  # labels unrelated to the points
    scores = sweep(points, [2], seed=0, bootstrap=0)
    result = compare(truth, [str(s) for s in scores[0].labels], points, pd.DataFrame(points), scores, seed=0)
    assert abs(result.ari) < 0.05
    assert abs(result.supervised_ari) < 0.05


def test_users_missing_from_the_users_table_are_labelled_so() -> None:
    users = pd.DataFrame({"segment": ["new"]}, index=pd.Index(["u1"], name="user_id"))
    assert planted_labels(pd.Index(["u1", "u2"]), users).tolist() == ["new", MISSING]  # type: ignore[union-attr]
    assert planted_labels(pd.Index(["u1"]), users.drop(columns="segment")) is None
    assert planted_labels(pd.Index(["u1"]), None) is None
