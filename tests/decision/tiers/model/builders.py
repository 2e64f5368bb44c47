"""Real tiny models in the training contract's shape, built for tests and benchmarks."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import lightgbm as lgb
import numpy as np

from decision.sources.feature_spec import SPEC_FILE, FeatureSpec, ItemStats

FEATURES = tuple(f"f{i}" for i in range(5))
ITEMS = ("c0", "c1", "c2", "c3")
FEATURE_SET_VERSION = "fs-test-1"


def spec(items: tuple[str, ...] = ITEMS, repeatable: bool = True) -> FeatureSpec:
    """A small spec over `items`: two categories, one region, one placement, some clicks."""
    stats = ItemStats(len(items))
    stats.clicks[:] = np.arange(len(items), 0, -1)
    stats.clicks_total = float(stats.clicks.sum())
    return FeatureSpec(
        items=items,
        item_categories=tuple(f"k{i % 2}" for i in range(len(items))),
        repeatable=(repeatable,) * len(items),
        categories=("k0", "k1"),
        regions=("DE",),
        devices=("mobile",),
        channels=("web",),
        placements=("home_banner",),
        stats=stats,
    )


SPEC = spec()


def train_booster(seed: int = 0, n_features: int = len(FEATURES), rounds: int = 5) -> lgb.Booster:
    """A lambdarank booster over random groups of 10 rows: one score per row."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(400, n_features))
    y = ((x[:, 0] * 3 + x[:, 1] * 2 + rng.normal(size=400)) > 2).astype(int)
    params = {"objective": "lambdarank", "num_leaves": 7, "min_data_in_leaf": 5, "verbose": -1}
    names = [f"f{i}" for i in range(n_features)]
    return lgb.train(params, lgb.Dataset(x, y, group=[10] * 40, feature_name=names), num_boost_round=rounds)


def metadata(
    feature_names: tuple[str, ...] = FEATURES,
    feature_set_version: str = FEATURE_SET_VERSION,
    feature_spec_version: str = SPEC.version,
    formulation: str = "ranker",
) -> dict[str, object]:
    return {
        "feature_names": list(feature_names),
        "feature_set_version": feature_set_version,
        "feature_spec_version": feature_spec_version,
        "formulation": formulation,
    }


def spec_file(feature_spec: FeatureSpec = SPEC) -> str:
    """The spec saved where MLflow can copy it from (a fresh temporary folder)."""
    path = Path(tempfile.mkdtemp(prefix="spec-")) / Path(SPEC_FILE).name
    feature_spec.save(path)
    return str(path)


def model_kwargs(booster: lgb.Booster, meta: dict[str, object], feature_spec: FeatureSpec = SPEC) -> dict[str, object]:
    """The log/save arguments the training package uses (pip list fixed: no env inference)."""
    from mlflow.models import infer_signature

    example = np.random.default_rng(7).normal(size=(2, booster.num_feature()))
    return {
        "signature": infer_signature(example, booster.predict(example)),
        "input_example": example,
        "metadata": meta,
        "extra_files": [spec_file(feature_spec)],
        "pip_requirements": ["lightgbm"],
    }


def save_local(booster: lgb.Booster, path: Path, feature_spec: FeatureSpec = SPEC, **meta: object) -> Path:
    """An MLflow model directory (MLmodel + model.lgb + spec + input example) without a registry."""
    import mlflow.lightgbm

    kwargs = model_kwargs(booster, metadata(**meta), feature_spec)  # type: ignore[arg-type]
    mlflow.lightgbm.save_model(booster, str(path), **kwargs)
    return path


def truncate(path: Path, fraction: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


def nan_model_text(booster: lgb.Booster) -> str:
    """A model that loads fine but scores NaN: the leaves of two trees at 1e308 overflow."""
    text = booster.model_to_string()
    for tree in (0, 1):
        start = text.index(f"Tree={tree}\n")
        i = text.index("leaf_value=", start)
        j = text.index("\n", i)
        count = len(text[i + len("leaf_value=") : j].split())
        text = text[:i] + "leaf_value=" + " ".join(["1e308"] * count) + text[j:]
    return re.sub(r"tree_sizes=[^\n]*\n", "", text)  # sizes no longer match; LightGBM re-scans
