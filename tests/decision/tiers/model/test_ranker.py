from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import lightgbm as lgb
import numpy as np
import pytest

from decision.sources.features import item_columns
from decision.tiers.model.artifact import LocalModel, file_sha256
from decision.tiers.model.compiled import compile_for
from decision.tiers.model.errors import ModelLoadError, PredictionError
from decision.tiers.model.ranker import Ranker, best
from tests.decision.tiers.model import builders


@pytest.fixture(params=["lightgbm", "native"])
def ranker(request: pytest.FixtureRequest, local_model: LocalModel) -> Ranker:
    """The ranker with each scorer: LightGBM's C API, and the compiled model."""
    ranker = Ranker.load(local_model)
    if request.param == "native":
        reference = lgb.Booster(model_file=str(local_model.model_file)).predict(local_model.example_rows())
        ranker = ranker.using(compile_for(local_model, 60, reference))
    assert ranker.predictor == request.param
    return ranker


@pytest.fixture
def rows() -> np.ndarray:
    return np.random.default_rng(3).normal(size=(200, len(builders.FEATURES)))


def test_scores_equal_booster_predict(ranker: Ranker, local_model: LocalModel, rows: np.ndarray) -> None:
    reference = lgb.Booster(model_file=str(local_model.model_file)).predict(rows)
    np.testing.assert_allclose(ranker.scores(rows), reference, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ranker.predict_batch(rows), reference, rtol=0, atol=1e-6)
    one = [ranker.scores(rows[i : i + 1])[0] for i in range(5)]
    np.testing.assert_allclose(one, reference[:5], rtol=0, atol=1e-6)
    assert ranker.spec == builders.SPEC
    assert ranker.feature_names == builders.FEATURES
    assert ranker.feature_set_version == builders.FEATURE_SET_VERSION


def test_the_item_block_is_the_specs_item_columns(ranker: Ranker) -> None:
    spec = builders.SPEC
    np.testing.assert_array_equal(ranker.item_block, item_columns(spec, spec.stats, np.arange(len(spec.items))))


def test_eight_threads_give_the_sequential_answers(ranker: Ranker, rows: np.ndarray) -> None:
    batches = [rows[i : i + 40] for i in range(0, 200, 40)]
    sequential = [ranker.scores(batch) for batch in batches]

    def worker(shift: int) -> int:
        wrong = 0
        for i in range(30):
            j = (i * 7 + shift) % len(batches)
            if not np.array_equal(ranker.scores(batches[j]), sequential[j]):
                wrong += 1
            if i % 10 == 0:  # the batch path shares the booster with the request path
                wrong += int(np.abs(ranker.predict_batch(batches[j]) - sequential[j]).max() > 1e-6)
        return wrong

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sum(pool.map(worker, range(8))) == 0


def test_nan_is_missing_and_the_batch_path_refuses_infinity(
    ranker: Ranker, local_model: LocalModel, rows: np.ndarray
) -> None:
    row = rows[:1].copy()
    row[0, 2] = np.nan
    reference = lgb.Booster(model_file=str(local_model.model_file)).predict(row)
    np.testing.assert_allclose(ranker.scores(row), reference, atol=1e-6)
    np.testing.assert_allclose(ranker.predict_batch(row), reference, atol=1e-6)
    row[0, 3] = -np.inf  # the request path leaves this to feature building (test_features.py)
    with pytest.raises(PredictionError, match="feature 'f3' is infinite"):
        ranker.predict_batch(np.vstack([rows[1:2], row]))


def test_wrong_width_is_refused_not_padded(ranker: Ranker) -> None:
    with pytest.raises(PredictionError, match=r"expected C-contiguous \(n, 5\) rows, got \(2, 6\)"):
        ranker.scores(np.zeros((2, 6)))
    with pytest.raises(PredictionError, match=r"expected C-contiguous \(n, 5\) rows"):
        ranker.scores(np.zeros((5, 2)).T)  # the right shape, but not C-contiguous
    with pytest.raises(PredictionError, match=r"got shape \(2, 4\)"):
        ranker.predict_batch(np.zeros((2, 4)))
    with pytest.raises(PredictionError, match=r"got shape \(0, 5\)"):
        ranker.predict_batch(np.zeros((0, 5)))


def test_no_rows_score_nothing(ranker: Ranker) -> None:
    assert ranker.scores(np.zeros((0, 5))).shape == (0,)


def test_non_finite_scores_are_refused(local_model: LocalModel) -> None:
    local_model.model_file.write_text(builders.nan_model_text(builders.train_booster(rounds=3)))
    nan_model = dataclasses.replace(local_model, sha256=file_sha256(local_model.model_file))
    ranker = Ranker.load(nan_model)
    with pytest.raises(PredictionError, match="non-finite scores"):
        ranker.scores(np.zeros((2, 5)))
    with pytest.raises(PredictionError, match="non-finite scores"):
        ranker.scores_of(bytearray(np.zeros((2, 5)).tobytes()))
    with pytest.raises(PredictionError, match="non-finite scores"):
        ranker.predict_batch(np.zeros((3, 5)))


def test_best_positions_ties_to_the_earlier_and_softmax_shares() -> None:
    positions, shares = best([0.1, 0.4, 0.2, 0.3], 2)
    assert positions == [1, 3]
    weights = np.exp(np.array([0.1, 0.4, 0.2, 0.3]))
    assert shares == pytest.approx((weights[[1, 3]] / weights.sum()).tolist())
    assert best([0.25, 0.25, 0.3, 0.25], 3)[0] == [2, 0, 1]
    assert best([0.5], 5) == ([0], [1.0])
    assert best([0.5, 0.2], 0) == ([], [])
    assert best([], 3) == ([], [])


@pytest.mark.parametrize("size", [40, 300], ids=["python-path", "numpy-path"])
def test_best_matches_a_plain_sort_and_softmax(size: int) -> None:
    rng = np.random.default_rng(size)
    for _ in range(30):
        scores = rng.integers(0, 20, size) / 4  # many ties on purpose
        k = int(rng.integers(1, 12))
        positions, shares = best(scores.tolist(), k)
        assert positions == sorted(range(size), key=lambda i: (-scores[i], i))[:k]
        softmax = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
        assert shares == pytest.approx(softmax[positions].tolist(), rel=1e-12)


def test_load_refuses_bytes_the_load_check_did_not_see(local_model: LocalModel) -> None:
    local_model.model_file.write_bytes(local_model.model_file.read_bytes() + b"\n")
    with pytest.raises(ModelLoadError, match="changed after the load check"):
        Ranker.load(local_model)


def test_load_refuses_a_multiclass_booster(local_model: LocalModel) -> None:
    x = np.random.default_rng(1).normal(size=(200, 5))
    params = {"objective": "multiclass", "num_class": 3, "verbose": -1}
    booster = lgb.train(params, lgb.Dataset(x, np.arange(200) % 3), num_boost_round=2)
    local_model.model_file.write_text(booster.model_to_string())
    model = dataclasses.replace(local_model, sha256=file_sha256(local_model.model_file))
    with pytest.raises(ModelLoadError, match="the booster has 3 outputs, a ranker one"):
        Ranker.load(model)


def test_closed_ranker_refuses_to_predict(ranker: Ranker) -> None:
    ranker.warm(np.zeros((2, 5)))
    ranker.close()
    with pytest.raises(PredictionError, match="closed"):
        ranker.scores(np.zeros((1, 5)))
