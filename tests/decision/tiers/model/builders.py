"""Real tiny models in the training contract's shape, built for tests and benchmarks."""

from __future__ import annotations

import re
from pathlib import Path

import lightgbm as lgb
import numpy as np

FEATURES = tuple(f"f{i}" for i in range(5))
CLASSES = ("c0", "c1", "c2", "c3")
FEATURE_SET_VERSION = "fs-test-1"


def train_booster(
    seed: int = 0, n_features: int = len(FEATURES), n_classes: int = len(CLASSES), rounds: int = 5
) -> lgb.Booster:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(400, n_features))
    y = (np.abs(x[:, 0] * 3 + x[:, 1] * 2).astype(int) + rng.integers(0, 2, 400)) % n_classes
    params = {"objective": "multiclass", "num_class": n_classes, "num_leaves": 7, "verbose": -1}
    names = [f"f{i}" for i in range(n_features)]
    return lgb.train(params, lgb.Dataset(x, y, feature_name=names), num_boost_round=rounds)


def metadata(
    feature_names: tuple[str, ...] = FEATURES,
    classes: tuple[str, ...] = CLASSES,
    feature_set_version: str = FEATURE_SET_VERSION,
) -> dict[str, object]:
    return {
        "feature_names": list(feature_names),
        "feature_set_version": feature_set_version,
        "classes": list(classes),
    }


def model_kwargs(booster: lgb.Booster, meta: dict[str, object]) -> dict[str, object]:
    """The log/save arguments the training package uses (pip list fixed: no env inference)."""
    from mlflow.models import infer_signature

    example = np.random.default_rng(7).normal(size=(2, booster.num_feature()))
    return {
        "signature": infer_signature(example, booster.predict(example)),
        "input_example": example,
        "metadata": meta,
        "pip_requirements": ["lightgbm"],
    }


def save_local(booster: lgb.Booster, path: Path, **meta: object) -> Path:
    """An MLflow model directory (MLmodel + model.lgb + input example) without a registry."""
    import mlflow.lightgbm

    mlflow.lightgbm.save_model(booster, str(path), **model_kwargs(booster, metadata(**meta)))  # type: ignore[arg-type]
    return path


def truncate(path: Path, fraction: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


def nan_model_text(booster: lgb.Booster) -> str:
    """A model that loads fine but scores NaN: class 0 leaves at 1e308 in two trees overflow."""
    text = booster.model_to_string()
    for tree in (0, len(CLASSES)):
        start = text.index(f"Tree={tree}\n")
        i = text.index("leaf_value=", start)
        j = text.index("\n", i)
        count = len(text[i + len("leaf_value=") : j].split())
        text = text[:i] + "leaf_value=" + " ".join(["1e308"] * count) + text[j:]
    return re.sub(r"tree_sizes=[^\n]*\n", "", text)  # sizes no longer match; LightGBM re-scans
