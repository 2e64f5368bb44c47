"""LightGBM lambdarank fit over each decision's candidate rows, early stopping on validation NDCG@3.

One tree per round scores every candidate row: a request costs rows x trees, so the
defaults (≤ 60 rounds at learning rate 0.2, 15 leaves) are sized for serving speed as much as for a 2-core
box; any LightGBM parameter can be overridden.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import lightgbm as lgb
import numpy as np

from decision.sources.features import CATEGORICAL_FEATURES, FEATURE_NAMES
from training import defaults
from training.features import Dataset

log = logging.getLogger(__name__)

# Every tree is walked once per candidate on the Decide hot path (training/README.md,
# "Accuracy against serving cost"). Override with --param name=value.
DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "lambdarank",
    "metric": "ndcg",
    "eval_at": [3],
    "learning_rate": 0.2,
    "num_leaves": 15,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "max_bin": 63,
    "num_threads": 1,
    "seed": 0,
    "deterministic": True,
    "verbose": -1,
}
DEFAULT_ROUNDS = defaults.ROUNDS
EARLY_STOPPING = 20


def parse_param(text: str) -> tuple[str, Any]:
    """`name=value` from the command line; value parsed as int, float or kept as text."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise ValueError(f"--param {text!r}: expected name=value, e.g. num_leaves=31")
    value: Any = raw.strip()
    for cast in (int, float):
        try:
            value = cast(raw)
            break
        except ValueError:
            continue
    return name.strip(), value


def fit(
    train: Dataset,
    valid: Dataset,
    overrides: Mapping[str, Any] | None = None,
    rounds: int = DEFAULT_ROUNDS,
    on_round: Callable[[int], object] = lambda i: None,
) -> tuple[lgb.Booster, dict[str, Any]]:
    """Train on `train`, stop early on `valid` NDCG@3; return the booster and its params.

    Decisions whose clicked content is not among their candidates teach nothing to a
    ranker and are left out of fitting.
    """
    params = {**DEFAULT_PARAMS, **(overrides or {})}
    categorical = [FEATURE_NAMES.index(name) for name in CATEGORICAL_FEATURES]
    train, valid = _with_label(train), _with_label(valid)
    train_set = lgb.Dataset(
        train.X,
        train.relevance(),
        group=train.sizes,
        feature_name=list(FEATURE_NAMES),
        categorical_feature=categorical,
        free_raw_data=True,
    )
    valid_set = lgb.Dataset(valid.X, valid.relevance(), group=valid.sizes, reference=train_set)

    def progress(env: Any) -> None:
        on_round(env.iteration)

    booster = lgb.train(
        params,
        train_set,
        num_boost_round=rounds,
        valid_sets=[valid_set],
        valid_names=["valid"],
        callbacks=[lgb.early_stopping(EARLY_STOPPING, verbose=False), progress],
    )
    log.info("trained %s rounds (best %s)", booster.current_iteration(), booster.best_iteration)
    # Round-trip through the model text: it keeps only the best iteration, exactly what the
    # registry stores and the service loads, so evaluation scores the served model.
    return lgb.Booster(model_str=booster.model_to_string()), {
        **params,
        "num_boost_round": rounds,
        "early_stopping_rounds": EARLY_STOPPING,
    }


def predict(booster: lgb.Booster, X: np.ndarray) -> np.ndarray:
    """One score per row (higher = ranked first)."""
    if not len(X):
        return np.zeros(0)
    return np.asarray(booster.predict(X, num_threads=1), dtype=np.float64).reshape(len(X))


def _with_label(data: Dataset) -> Dataset:
    found = np.flatnonzero(data.label_row >= 0)
    return data if len(found) == len(data) else data.take(found)
