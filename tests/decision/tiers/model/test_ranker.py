from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import lightgbm as lgb
import numpy as np
import pytest

from decision.tiers.model.artifact import LocalModel, file_sha256
from decision.tiers.model.compiled import compile_for
from decision.tiers.model.errors import ModelLoadError, PredictionError
from decision.tiers.model.ranker import Ranker, top_indices
from tests.decision.tiers.model import builders


@pytest.fixture(params=["lightgbm", "native"])
def ranker(request: pytest.FixtureRequest, local_model: LocalModel) -> Ranker:
    """The ranker with each single-row path: LightGBM's fast path, and the compiled model."""
    ranker = Ranker.load(local_model)
    if request.param == "native":
        reference = lgb.Booster(model_file=str(local_model.model_file)).predict(local_model.example_rows())
        ranker = ranker.using(compile_for(local_model, 60, reference))
    assert ranker.predictor == request.param
    return ranker


@pytest.fixture
def rows() -> np.ndarray:
    return np.random.default_rng(3).normal(size=(200, len(builders.FEATURES)))


def test_fast_path_equals_booster_predict(ranker: Ranker, local_model: LocalModel, rows: np.ndarray) -> None:
    reference = lgb.Booster(model_file=str(local_model.model_file)).predict(rows)
    fast = np.stack([ranker.predict_proba(row) for row in rows])
    np.testing.assert_allclose(fast, reference, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ranker.predict_batch(rows), reference, rtol=0, atol=1e-6)
    assert ranker.classes == builders.CLASSES
    assert ranker.feature_names == builders.FEATURES
    assert ranker.feature_set_version == builders.FEATURE_SET_VERSION


def test_eight_threads_give_the_sequential_answers(ranker: Ranker, rows: np.ndarray) -> None:
    sequential = [ranker.predict_proba(row) for row in rows]

    def worker(shift: int) -> int:
        wrong = 0
        for i in range(len(rows) * 3):
            j = (i * 7 + shift) % len(rows)
            if not np.array_equal(ranker.predict_proba(rows[j]), sequential[j]):
                wrong += 1
            if i % 10 == 0:  # the batch path shares the booster with the fast path
                batch = ranker.predict_batch(rows[j : j + 1])[0]
                wrong += int(np.abs(batch - sequential[j]).max() > 1e-6)
        return wrong

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sum(pool.map(worker, range(8))) == 0


def test_nan_is_missing_and_the_batch_path_refuses_infinity(
    ranker: Ranker, local_model: LocalModel, rows: np.ndarray
) -> None:
    row = rows[0].copy()
    row[2] = np.nan
    reference = lgb.Booster(model_file=str(local_model.model_file)).predict(row.reshape(1, -1))
    np.testing.assert_allclose(ranker.predict_proba(row), reference[0], atol=1e-6)
    np.testing.assert_allclose(ranker.predict_batch(row.reshape(1, -1)), reference, atol=1e-6)
    row[3] = -np.inf  # the single-row path leaves this to feature building (test_features.py)
    with pytest.raises(PredictionError, match="feature 'f3' is infinite"):
        ranker.predict_batch(np.stack([rows[1], row]))


def test_wrong_width_is_refused_not_padded(ranker: Ranker) -> None:
    with pytest.raises(PredictionError, match=r"expected one row of 5 features, got shape \(6,\)"):
        ranker.predict_proba(np.zeros(6))
    with pytest.raises(PredictionError, match=r"got shape \(2, 4\)"):
        ranker.predict_batch(np.zeros((2, 4)))
    with pytest.raises(PredictionError, match=r"got shape \(0, 5\)"):
        ranker.predict_batch(np.zeros((0, 5)))


def test_non_finite_scores_are_refused(local_model: LocalModel) -> None:
    local_model.model_file.write_text(builders.nan_model_text(builders.train_booster(rounds=3)))
    nan_model = dataclasses.replace(local_model, sha256=file_sha256(local_model.model_file))
    ranker = Ranker.load(nan_model)
    with pytest.raises(PredictionError, match="non-finite scores"):
        ranker.predict_proba(np.zeros(5))
    with pytest.raises(PredictionError, match="non-finite scores"):
        ranker.predict_batch(np.zeros((3, 5)))


def test_top_k_respects_eligibility_k_and_order(ranker: Ranker) -> None:
    probs = np.array([0.1, 0.4, 0.2, 0.3])
    assert ranker.top_k(probs, ["c0", "c2", "c3", "unknown"], 2) == [("c3", 0.3), ("c2", 0.2)]
    assert ranker.top_k(probs, ranker.eligible_indices(["c1", "c0"]), 5) == [
        ("c1", 0.4),
        ("c0", 0.1),
    ]
    assert ranker.top_k(probs, [], 3) == []
    assert ranker.top_k(probs, ["c1"], 0) == []


def test_top_k_breaks_ties_by_class_order(ranker: Ranker) -> None:
    probs = np.array([0.25, 0.25, 0.25, 0.25])
    assert [c for c, _ in ranker.top_k(probs, builders.CLASSES, 2)] == ["c0", "c1"]
    assert [c for c, _ in ranker.top_k(probs, ["c3", "c1", "c2"], 2)] == ["c1", "c2"]


@pytest.mark.parametrize("size", [40, 300, 2000], ids=["python-sort-path", "argsort-path", "argpartition-path"])
def test_top_indices_matches_a_plain_sort(size: int) -> None:
    rng = np.random.default_rng(size)
    for _ in range(50):
        scores = rng.integers(0, 20, size) / 20  # many ties on purpose
        mask = rng.random(size) < 0.6
        k = int(rng.integers(0, 12))
        expected = sorted(np.flatnonzero(mask), key=lambda i: (-scores[i], i))[:k]
        assert top_indices(scores.tolist(), np.flatnonzero(mask), k) == expected


def test_load_refuses_bytes_the_load_check_did_not_see(local_model: LocalModel) -> None:
    local_model.model_file.write_bytes(local_model.model_file.read_bytes() + b"\n")
    with pytest.raises(ModelLoadError, match="changed after the load check"):
        Ranker.load(local_model)


def test_closed_ranker_refuses_to_predict(ranker: Ranker) -> None:
    ranker.warm(np.zeros((2, 5)))
    ranker.close()
    with pytest.raises(PredictionError, match="closed"):
        ranker.predict_proba(np.zeros(5))
