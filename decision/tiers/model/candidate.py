"""Turn a downloaded model version into a warmed Ranker, or say exactly why not.

Checks run cheapest first: the metadata contract (feature set), then the child
process load check, then the in-process load and a warm-up with the input example. The
compilation to native code comes after the model serves (`compiled`): when it fails,
LightGBM's fast path goes on scoring.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from decision.tiers.model.artifact import LocalModel
from decision.tiers.model.compiled import compile_for
from decision.tiers.model.errors import ModelLoadError, PredictionError
from decision.tiers.model.load_check import check_in_child
from decision.tiers.model.ranker import Ranker

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
    load_check_timeout_s: float,
) -> Ranker:
    """Validate, test-load, load and warm `model`; raises ModelLoadError."""
    check_features(model, expected_version, expected_names)
    check_in_child(model, load_check_timeout_s)
    ranker = Ranker.load(model)
    try:
        ranker.warm(model.example_rows())
    except PredictionError as exc:
        ranker.close()
        where = f"model {model.name} v{model.version}"
        raise ModelLoadError(f"{where}: warm-up failed: {exc}") from None
    return ranker


def compiled(ranker: Ranker, timeout_s: float) -> Ranker | None:
    """A warmed ranker of the same model scored by native code, or None (reason logged).

    Never raises: whatever goes wrong, `ranker` (which may be serving meanwhile) stays as it is.
    """
    model = ranker.model
    try:
        reference = np.array(ranker.scores(np.ascontiguousarray(model.example_rows(), dtype=np.float64)))
        native = ranker.using(compile_for(model, timeout_s, reference))
        native.warm(model.example_rows())
    except Exception as exc:  # a failed optimisation must never cost the model
        reason = str(exc) if isinstance(exc, ModelLoadError | PredictionError) else type(exc).__name__
        logger.warning("model %s v%s not compiled (%s); LightGBM scores it", model.name, model.version, reason)
        return None
    return native
