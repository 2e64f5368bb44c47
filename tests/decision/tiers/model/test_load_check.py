from __future__ import annotations

import dataclasses

import pytest

from decision.tiers.model.artifact import LocalModel, file_sha256, read_local_model
from decision.tiers.model.errors import ModelLoadError
from decision.tiers.model.load_check import check_in_child
from tests.decision.tiers.model import builders


def _rewritten(model: LocalModel, data: bytes) -> LocalModel:
    """The same model directory with other bytes in model.lgb, hashed as a download would."""
    model.model_file.write_bytes(data)
    return dataclasses.replace(model, sha256=file_sha256(model.model_file))


def test_a_good_model_passes(local_model: LocalModel) -> None:
    check_in_child(local_model, timeout_s=60)


def test_a_truncated_model_kills_only_the_child(local_model: LocalModel) -> None:
    data = local_model.model_file.read_bytes()
    cut = _rewritten(local_model, data[: len(data) // 2])
    with pytest.raises(ModelLoadError, match=r"nbc v1: load check child died with SIG(SEGV|ABRT)"):
        check_in_child(cut, timeout_s=60)
    check_in_child(_rewritten(local_model, data), timeout_s=60)  # this process is still fine


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "load failed"), (bytes(range(256)) * 64, "load failed")],
    ids=["empty", "garbage"],
)
def test_unloadable_files_are_refused(local_model: LocalModel, content: bytes, reason: str) -> None:
    with pytest.raises(ModelLoadError, match=f"load check refused it: {reason}"):
        check_in_child(_rewritten(local_model, content), timeout_s=60)


def test_a_model_that_scores_nan_is_refused(local_model: LocalModel) -> None:
    booster = builders.train_booster(rounds=3)
    model = _rewritten(local_model, builders.nan_model_text(booster).encode())
    with pytest.raises(ModelLoadError, match="non-finite"):
        check_in_child(model, timeout_s=60)


def test_metadata_that_does_not_match_the_booster_is_refused(local_model: LocalModel) -> None:
    model = dataclasses.replace(local_model, feature_names=(*local_model.feature_names, "extra"))
    with pytest.raises(ModelLoadError, match="booster expects 5 features, metadata lists 6"):
        check_in_child(model, timeout_s=60)


def test_a_multiclass_booster_is_refused(local_model: LocalModel) -> None:
    import lightgbm as lgb
    import numpy as np

    x = np.random.default_rng(1).normal(size=(200, 5))
    params = {"objective": "multiclass", "num_class": 3, "verbose": -1}
    booster = lgb.train(params, lgb.Dataset(x, np.arange(200) % 3), num_boost_round=2)
    with pytest.raises(ModelLoadError, match="booster has 3 outputs, a ranker one"):
        check_in_child(_rewritten(local_model, booster.model_to_string().encode()), timeout_s=60)


def test_a_file_changed_after_download_is_refused(local_model: LocalModel) -> None:
    model = dataclasses.replace(local_model, sha256="0" * 64)
    with pytest.raises(ModelLoadError, match="changed after download"):
        check_in_child(model, timeout_s=60)


def test_a_slow_load_check_is_abandoned(local_model: LocalModel) -> None:
    with pytest.raises(ModelLoadError, match=r"load check did not finish within 0\.01 s"):
        check_in_child(local_model, timeout_s=0.01)


def test_read_local_model_refuses_a_model_without_its_spec(local_model: LocalModel) -> None:
    (local_model.path / "extra_files" / "feature_spec.json").unlink()
    with pytest.raises(ModelLoadError, match=r"nbc v1: .*feature_spec\.json: cannot read the feature spec"):
        read_local_model(local_model.path, "nbc", "1")


def test_read_local_model_refuses_a_spec_that_is_not_the_one_named(local_model: LocalModel) -> None:
    mlmodel = local_model.path / "MLmodel"
    mlmodel.write_text(mlmodel.read_text().replace(builders.SPEC.version, "f" * 12))
    with pytest.raises(ModelLoadError, match=f"is version {builders.SPEC.version}, the metadata names 'ffffffffffff'"):
        read_local_model(local_model.path, "nbc", "1")


def test_read_local_model_refuses_a_model_from_before_the_spec(local_model: LocalModel) -> None:
    mlmodel = local_model.path / "MLmodel"
    mlmodel.write_text(mlmodel.read_text().replace("formulation: ranker", "classes: [a, b]"))
    with pytest.raises(ModelLoadError, match=r"metadata\.formulation is None, not 'ranker'"):
        read_local_model(local_model.path, "nbc", "1")


def test_read_local_model_names_a_missing_metadata_field(local_model: LocalModel) -> None:
    mlmodel = local_model.path / "MLmodel"
    mlmodel.write_text(mlmodel.read_text().replace("feature_set_version:", "other_key:"))
    with pytest.raises(ModelLoadError, match=r"nbc v1: MLmodel metadata\.feature_set_version"):
        read_local_model(local_model.path, "nbc", "1")
