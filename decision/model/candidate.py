"""Turn a downloaded model version into a warmed Ranker, or say exactly why not.

Checks run cheapest first: the metadata contract (feature set), then the child
process canary, then the in-process load, the compilation to native code (optional:
when it fails, LightGBM's fast path scores), and a warm-up with the input example.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from decision.model.artifact import LocalModel
from decision.model.canary import check_in_child
from decision.model.compiled import compile_for
from decision.model.errors import ModelLoadError, PredictionError
from decision.model.ranker import Ranker

logger = logging.getLogger(__name__)


def check_features(model: LocalModel, expected_version: str, expected_names: Sequence[str]) -> None:
    """Refuse a model built for other features than this service computes."""
    where = f"model {model.name} v{model.version}"
    if model.feature_set_version != expected_version:
        raise ModelLoadError(
            f"{where} was built for feature set {model.feature_set_version} "
            f"({len(model.feature_names)} features); this service computes {expected_version} "
            f"({len(expected_names)} features): retrain it with this version of the features"
        )
    if tuple(model.feature_names) != tuple(expected_names):
        missing = sorted(set(expected_names) - set(model.feature_names))
        extra = sorted(set(model.feature_names) - set(expected_names))
        raise ModelLoadError(
            f"{where}: feature list differs although the feature set version matches "
            f"(missing {missing[:5]}, extra {extra[:5]}, or another order)"
        )


def prepare(
    model: LocalModel,
    expected_version: str,
    expected_names: Sequence[str],
    canary_timeout_s: float,
    compile_timeout_s: float = 0.0,
) -> Ranker:
    """Validate, canary-load, load, compile (when `compile_timeout_s` > 0) and warm `model`;
    raises ModelLoadError."""
    check_features(model, expected_version, expected_names)
    check_in_child(model, canary_timeout_s)
    ranker = Ranker.load(model)
    if compile_timeout_s > 0:
        ranker = _compiled(ranker, compile_timeout_s)
    try:
        ranker.warm(model.example_rows())
    except PredictionError as exc:
        ranker.close()
        where = f"model {model.name} v{model.version}"
        raise ModelLoadError(f"{where}: warm-up failed: {exc}") from None
    return ranker


def _compiled(ranker: Ranker, timeout_s: float) -> Ranker:
    """`ranker` scored by native code, or unchanged (with the reason logged) when that fails."""
    model = ranker.model
    try:
        reference = np.array([ranker.predict_proba(row) for row in model.example_rows()])
        return ranker.using(compile_for(model, timeout_s, reference))
    except (ModelLoadError, PredictionError) as exc:
        logger.warning("%s; LightGBM scores it instead", exc)
        return ranker
