"""The model compiled to native code: same scores as LightGBM, compiled in a child, and any
failure leaves LightGBM scoring."""

from __future__ import annotations

import dataclasses
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from decision.tiers.model import compile_child
from decision.tiers.model import compiled as compiled_module
from decision.tiers.model.artifact import LocalModel, file_sha256
from decision.tiers.model.candidate import compiled, prepare
from decision.tiers.model.compile_child import check_rows, compile_model
from decision.tiers.model.compiled import OBJECT_FILE, TOLERANCE, compile_for
from decision.tiers.model.errors import ModelLoadError, PredictionError
from decision.tiers.model.fastpredict import FastPredictor
from decision.tiers.model.ranker import Ranker
from tests.decision.tiers.model import builders


@pytest.fixture(autouse=True)
def _child_import_blocks_stay_in_the_test() -> Iterator[None]:
    """compile_model blocks lightgbm's optional imports (sys.modules[name] = None), meant for its
    child process; run here, that left e.g. polars and matplotlib unimportable for every later
    test in the session (scikit-learn then failed on sys.modules['polars'] being None)."""
    absent = [name for name in compile_child._OPTIONAL if name not in sys.modules]
    yield
    for name in absent:
        if name in sys.modules and sys.modules[name] is None:
            del sys.modules[name]


def _spec(model: LocalModel, tolerance: float = TOLERANCE) -> dict[str, object]:
    """What compile_for sends the child."""
    return {
        "model_file": str(model.model_file),
        "object_file": str(model.path / OBJECT_FILE),
        "rows": model.example_rows().tolist(),
        "tolerance": tolerance,
    }


def reference(model: LocalModel) -> np.ndarray:
    return np.asarray(lgb.Booster(model_file=str(model.model_file)).predict(model.example_rows()))


def test_native_scores_equal_lightgbm_with_missing_values(local_model: LocalModel) -> None:
    predictor = compile_for(local_model, 60, reference(local_model))
    rows = check_rows(np.random.default_rng(5).normal(size=(50, len(builders.FEATURES))))
    assert np.isnan(rows).any()
    expected = lgb.Booster(model_file=str(local_model.model_file)).predict(rows)
    native = predictor.predict_rows(np.ascontiguousarray(rows))
    np.testing.assert_allclose(native, expected, rtol=0, atol=TOLERANCE)
    assert predictor.kind == "native"
    # the request path's input: the same rows as bytes, scored alike by both predictors
    buffer = bytearray(np.ascontiguousarray(rows).tobytes())
    assert predictor.predict_buffer(buffer) == native.tolist()
    assert predictor.predict_buffer(np.ascontiguousarray(rows)) == native.tolist()  # many candidates: an array
    lightgbm = FastPredictor(lgb.Booster(model_file=str(local_model.model_file)), len(builders.FEATURES))
    np.testing.assert_allclose(lightgbm.predict_buffer(buffer), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(lightgbm.predict_buffer(np.ascontiguousarray(rows)), expected, rtol=0, atol=1e-12)


def test_a_served_ranker_gets_a_native_twin_and_stays_usable(local_model: LocalModel) -> None:
    serving = prepare(local_model, builders.FEATURE_SET_VERSION, builders.FEATURES, 60)
    assert serving.predictor == "lightgbm"
    native = compiled(serving, 60)
    assert native is not None
    assert native.predictor == "native"
    assert (local_model.path / OBJECT_FILE).is_file()
    rows = np.ascontiguousarray(local_model.example_rows())
    np.testing.assert_allclose(native.scores(rows), serving.scores(rows), rtol=0, atol=TOLERANCE)


def test_a_compile_that_times_out_leaves_lightgbm_scoring(
    local_model: LocalModel, caplog: pytest.LogCaptureFixture
) -> None:
    serving = prepare(local_model, builders.FEATURE_SET_VERSION, builders.FEATURES, 60)
    with caplog.at_level(logging.WARNING):
        assert compiled(serving, 0.01) is None
    assert "model nbc v1 not compiled (model nbc v1: compile did not finish within 0.01 s); LightGBM" in caplog.text
    serving.scores(np.ascontiguousarray(local_model.example_rows()))


def test_an_unexpected_failure_while_compiling_leaves_lightgbm_scoring(
    local_model: LocalModel, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def unreadable(*_args: object) -> dict[str, object]:
        raise OSError("disk gone")

    monkeypatch.setattr(compiled_module, "run_child", unreadable)
    serving = prepare(local_model, builders.FEATURE_SET_VERSION, builders.FEATURES, 60)
    with caplog.at_level(logging.WARNING):
        assert compiled(serving, 60) is None
    assert "model nbc v1 not compiled (OSError); LightGBM scores it" in caplog.text


def test_a_model_lleaves_cannot_read_is_not_compiled(local_model: LocalModel) -> None:
    local_model.model_file.write_text(builders.nan_model_text(builders.train_booster(rounds=3)))
    odd_model = dataclasses.replace(local_model, sha256=file_sha256(local_model.model_file))
    with pytest.raises(ModelLoadError, match="nbc v1: not compiled: compile failed: ValueError"):
        compile_for(odd_model, 60, np.zeros(2))


def test_the_child_refuses_code_whose_scores_differ(local_model: LocalModel) -> None:
    verdict = compile_model(_spec(local_model, tolerance=-1.0))  # any difference is too large
    assert verdict["ok"] is False
    assert verdict["reason"].startswith("native scores differ from LightGBM's by up to")


def test_an_object_file_changed_after_compiling_is_not_loaded(
    local_model: LocalModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_run_child = compiled_module.run_child

    def run_then_tamper(script: Path, spec: dict[str, object], timeout_s: float, what: str) -> dict[str, object]:
        verdict = real_run_child(script, spec, timeout_s, what)
        with Path(str(spec["object_file"])).open("ab") as out:
            out.write(b"\0")
        return verdict

    monkeypatch.setattr(compiled_module, "run_child", run_then_tamper)
    with pytest.raises(ModelLoadError, match=f"{OBJECT_FILE} changed after it was compiled"):
        compile_for(local_model, 60, reference(local_model))


def test_code_that_scores_differently_in_process_is_refused(local_model: LocalModel) -> None:
    with pytest.raises(ModelLoadError, match=r"compiled scores differ from LightGBM's by 0\.1"):
        compile_for(local_model, 60, reference(local_model) + 0.1)


def test_the_child_says_when_lleaves_is_missing(local_model: LocalModel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "lleaves", None)
    assert compile_model(_spec(local_model)) == {"ok": False, "reason": "lleaves is not installed (lleaves)"}


def test_a_closed_native_ranker_refuses_to_predict(local_model: LocalModel) -> None:
    ranker = Ranker.load(local_model).using(compile_for(local_model, 60, reference(local_model)))
    ranker.close()
    with pytest.raises(PredictionError, match="closed"):
        ranker.scores(np.zeros((1, 5)))


def test_rows_of_another_width_never_reach_the_native_code(local_model: LocalModel) -> None:
    predictor = compile_for(local_model, 60, reference(local_model))
    with pytest.raises(PredictionError, match=r"expected C-contiguous \(n, 5\) rows, got \(3, 6\)"):
        predictor.predict_rows(np.zeros((3, 6)))
    with pytest.raises(PredictionError, match="expected rows of 5 float64 values, got 48 bytes"):
        predictor.predict_buffer(bytearray(48))
