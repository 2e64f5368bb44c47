"""A loaded LightGBM next-best-content model: score one user, pick the top eligible content.

Input policy: NaN means "missing", as LightGBM treats it in training, and is passed
through. ±inf is a bug in feature building (LightGBM would silently score it). The
single-row path does not look for it on every request, where the check cost a tenth of
the model's whole share: rows come from `decision.sources.features.write_row` (or
`vector`, the same values), which builds them from validated requests and from profiles
checked finite at load (tests/decision/sources/test_features.py holds it to that);
`predict_batch` still refuses it.
Outputs that are not finite are refused, so no NaN reaches a response.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from typing import Protocol

import lightgbm
import numpy as np

from decision.sources.features import RowBuffer, RowWriter
from decision.tiers.model.artifact import LocalModel
from decision.tiers.model.errors import ModelLoadError, PredictionError
from decision.tiers.model.fastpredict import FastPredictor

_PYTHON_SORT_UP_TO = 64  # candidates: below this, sorting a list beats numpy's per-call overhead
_SORT_UP_TO = 512  # candidates; measured crossover of argsort vs argpartition is ~700


class RowPredictor(Protocol):
    """Single-row class probabilities: LightGBM's fast path, or the model compiled to native code.

    The caller writes the row straight into the scorer's input buffer and gets plain floats
    back: no numpy call on the request path (see `decision.sources.features.write_row`).
    """

    kind: str

    def predict_written(self, write: RowWriter) -> list[float]: ...

    def close(self) -> None: ...


class Ranker:
    """Immutable after load; safe to share between threads."""

    def __init__(self, booster: lightgbm.Booster, model: LocalModel, predictor: RowPredictor | None = None) -> None:
        self.model = model
        self.name = model.name
        self.version = model.version
        self.classes: tuple[str, ...] = model.classes
        self.feature_names: tuple[str, ...] = model.feature_names
        self.feature_set_version = model.feature_set_version
        self._booster = booster
        self._index = {content_id: i for i, content_id in enumerate(self.classes)}
        self._fast: RowPredictor = predictor or FastPredictor(booster, len(self.feature_names), len(self.classes))

    @classmethod
    def load(cls, model: LocalModel) -> Ranker:
        """Load in-process; call only after the load check passed for the same bytes (sha256)."""
        where = f"model {model.name} v{model.version}"
        try:
            data = model.model_file.read_bytes()  # hashed and parsed from one read
        except OSError as exc:
            raise ModelLoadError(f"{where}: cannot read {model.model_file.name}") from exc
        if hashlib.sha256(data).hexdigest() != model.sha256:
            raise ModelLoadError(f"{where}: {model.model_file.name} changed after the load check")
        try:
            booster = lightgbm.Booster(model_str=data.decode("utf-8"))
        except (UnicodeDecodeError, lightgbm.basic.LightGBMError) as exc:
            raise ModelLoadError(f"{where}: load failed ({type(exc).__name__})") from None
        if booster.num_model_per_iteration() != len(model.classes):
            raise ModelLoadError(f"{where}: booster classes != metadata classes")
        if booster.num_feature() != len(model.feature_names):
            raise ModelLoadError(f"{where}: booster width != metadata feature_names")
        return cls(booster, model)

    @property
    def predictor(self) -> str:
        """Which single-row path scores: "native" (compiled) or "lightgbm"."""
        return self._fast.kind

    def using(self, predictor: RowPredictor) -> Ranker:
        """The same model scored by `predictor`. This ranker stays usable: it may be serving
        until the new one replaces it, and its native handles go with its last reference."""
        return Ranker(self._booster, self.model, predictor)

    def scores(self, write: RowWriter) -> list[float]:
        """Class probabilities for the feature row `write` fills in (the request path)."""
        scores = self._fast.predict_written(write)
        if not math.isfinite(sum(scores)):  # NaN or ±inf anywhere makes the sum non-finite
            raise PredictionError("model returned non-finite scores")
        return scores

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities for one feature row given as an array."""
        if x.shape != (len(self.feature_names),):
            raise PredictionError(f"expected one row of {len(self.feature_names)} features, got shape {x.shape}")
        return np.array(self.scores(_copy_of(x)))

    def predict_batch(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities for many rows, shape (rows, classes) (Booster.predict).

        One OpenMP thread per call: the server runs calls concurrently, and per-call
        threads oversubscribe the cores (with 8 callers on 2 cores the single-row p50 was
        several times higher with default threads; bench/README.md, "Design figures").
        """
        rows = np.asarray(x, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != len(self.feature_names) or rows.shape[0] == 0:
            raise PredictionError(f"expected (n>0, {len(self.feature_names)}) features, got shape {rows.shape}")
        self._check_input(rows)
        return self._check_output(np.asarray(self._booster.predict(rows, num_threads=1)))

    def warm(self, rows: np.ndarray) -> None:
        """Run each row through both paths once, so the first request pays no setup cost."""
        for row in np.atleast_2d(rows):
            self.predict_proba(row)
        self.predict_batch(np.atleast_2d(rows))

    def eligible_indices(self, content_ids: Iterable[str]) -> np.ndarray:
        """Sorted class indices of `content_ids`; ids the model does not know are ignored."""
        found = {self._index[c] for c in content_ids if c in self._index}
        return np.array(sorted(found), dtype=np.intp)

    def top_k(
        self, probs: list[float] | np.ndarray, eligible: np.ndarray | Iterable[str], k: int
    ) -> list[tuple[str, float]]:
        """The k best eligible (content_id, score), best first; ties go to the earlier class.

        `eligible` is sorted class indices (what callers cache) or content ids.
        """
        indices = eligible if isinstance(eligible, np.ndarray) else self.eligible_indices(eligible)
        scores = probs if isinstance(probs, list) else probs.tolist()  # Python floats, read once
        return [(self.classes[i], scores[i]) for i in top_indices(scores, indices, k)]

    def close(self) -> None:
        """Free native fast-path handles now (the booster goes with the last reference)."""
        self._fast.close()

    def _check_input(self, x: np.ndarray) -> None:
        if np.isinf(x).any():
            bad = _first_bad_column(x, self.feature_names)
            raise PredictionError(f"feature {bad!r} is infinite")

    def _check_output(self, probs: np.ndarray) -> np.ndarray:
        if not math.isfinite(probs.sum()):  # NaN or ±inf anywhere makes the sum non-finite
            raise PredictionError("model returned non-finite scores")
        return probs


def predict_array(predictor: RowPredictor, row: np.ndarray) -> list[float]:
    """`predictor`'s class probabilities for a row given as an array (checks and tests)."""
    return predictor.predict_written(_copy_of(row))


def _copy_of(row: np.ndarray) -> RowWriter:
    data = np.ascontiguousarray(row, dtype=np.float64)

    def write(buffer: RowBuffer) -> None:
        if data.size != len(buffer):
            raise PredictionError(f"expected one row of {len(buffer)} features, got shape {row.shape}")
        memoryview(buffer).cast("B")[:] = data.tobytes()  # as features.write_row: keeps the GIL

    return write


def top_indices(scores: list[float], indices: np.ndarray, k: int) -> list[int]:
    """The k best of `indices` (sorted ascending) by score, best first, ties to the lower index.

    Few candidates (the usual placement): a stable Python sort (reverse=True keeps ties in
    index order). Up to a few hundred: numpy's stable argsort. Past that, argpartition plus
    an exact tie cut keeps it O(n) with the same answer.
    """
    k = min(k, indices.size)
    if k <= 0:
        return []
    if indices.size <= _PYTHON_SORT_UP_TO:
        return sorted(indices.tolist(), key=scores.__getitem__, reverse=True)[:k]
    candidates = np.asarray(scores)[indices]
    if candidates.size <= _SORT_UP_TO:
        return list(indices[np.argsort(-candidates, kind="stable")[:k]].tolist())
    kth = candidates[np.argpartition(-candidates, k - 1)[k - 1]]
    above = np.flatnonzero(candidates > kth)
    chosen = np.concatenate([above, np.flatnonzero(candidates == kth)[: k - above.size]])
    return list(indices[chosen[np.lexsort((chosen, -candidates[chosen]))]].tolist())


def _first_bad_column(x: np.ndarray, names: Sequence[str]) -> str:
    column = int(np.argwhere(np.isinf(np.atleast_2d(x)))[0][1])
    return names[column]
