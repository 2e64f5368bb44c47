"""A loaded LightGBM next-best-content ranker: one score per candidate row, the best k first.

Input policy: NaN means "missing", as LightGBM treats it in training, and is passed
through. ±inf is a bug in feature building (LightGBM would silently score it). The
request path does not look for it on every request: rows come from
`decision.sources.features.rows`, which builds them from validated requests and from
profiles and specs checked finite at load (tests/decision/sources/test_features.py holds
it to that); `predict_batch` still refuses it. Scores that are not finite are refused, so
no NaN reaches a response.
"""

from __future__ import annotations

import hashlib
import math
from typing import Protocol

import lightgbm
import numpy as np

from decision.sources.features import item_columns
from decision.tiers.model.artifact import LocalModel
from decision.tiers.model.errors import ModelLoadError, PredictionError
from decision.tiers.model.fastpredict import FastPredictor
from decision.tiers.model.rowbuffer import RowBuffer


class RowPredictor(Protocol):
    """Scores for a batch of candidate rows: LightGBM's C API, or the model compiled to native code."""

    kind: str

    def predict_rows(self, rows: RowBuffer) -> np.ndarray: ...

    def predict_buffer(self, rows: RowBuffer) -> list[float]: ...

    def close(self) -> None: ...


class Ranker:
    """Immutable after load; safe to share between threads."""

    def __init__(self, booster: lightgbm.Booster, model: LocalModel, predictor: RowPredictor | None = None) -> None:
        self.model = model
        self.name = model.name
        self.version = model.version
        self.spec = model.spec
        self.feature_names: tuple[str, ...] = model.feature_names
        self.feature_set_version = model.feature_set_version
        self._booster = booster
        self._fast: RowPredictor = predictor or FastPredictor(booster, len(self.feature_names))
        #: the item columns of every spec item, computed once: the spec's statistics do not move
        self.item_block = item_columns(self.spec, self.spec.stats, np.arange(len(self.spec.items)))

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
        if booster.num_model_per_iteration() != 1:
            raise ModelLoadError(f"{where}: the booster has {booster.num_model_per_iteration()} outputs, a ranker one")
        if booster.num_feature() != len(model.feature_names):
            raise ModelLoadError(f"{where}: booster width != metadata feature_names")
        return cls(booster, model)

    @property
    def trees(self) -> int:
        """Trees in the model: each is walked once per candidate row."""
        trees: int = self._booster.num_trees()
        return trees

    @property
    def predictor(self) -> str:
        """Which scorer runs: "native" (compiled) or "lightgbm"."""
        return self._fast.kind

    def using(self, predictor: RowPredictor) -> Ranker:
        """The same model scored by `predictor`. This ranker stays usable: it may be serving
        until the new one replaces it, and its native handles go with its last reference."""
        return Ranker(self._booster, self.model, predictor)

    def scores(self, rows: RowBuffer) -> np.ndarray:
        """`scores_of` as an array."""
        return np.array(self.scores_of(rows))

    def scores_of(self, rows: RowBuffer) -> list[float]:
        """One score per candidate row (the request path: a `row_buffer`, no numpy call for a few
        candidates)."""
        scores = self._fast.predict_buffer(rows)
        if not math.isfinite(sum(scores)):  # NaN or ±inf anywhere makes the sum non-finite
            raise PredictionError("model returned non-finite scores")
        return scores

    def predict_batch(self, x: np.ndarray) -> np.ndarray:
        """Scores for many rows (Booster.predict), with ±inf refused.

        One OpenMP thread per call: the server runs calls concurrently, and per-call
        threads oversubscribe the cores (with 8 callers on 2 cores the single-row p50 was
        several times higher with default threads; bench/README.md, "Design figures").
        """
        rows = np.asarray(x, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != len(self.feature_names) or rows.shape[0] == 0:
            raise PredictionError(f"expected (n>0, {len(self.feature_names)}) features, got shape {rows.shape}")
        if np.isinf(rows).any():
            column = int(np.argwhere(np.isinf(rows))[0][1])
            raise PredictionError(f"feature {self.feature_names[column]!r} is infinite")
        scores = np.asarray(self._booster.predict(rows, num_threads=1), dtype=np.float64)
        if not math.isfinite(scores.sum()):
            raise PredictionError("model returned non-finite scores")
        return scores

    def warm(self, rows: np.ndarray) -> None:
        """Run the rows through both paths once, so the first request pays no setup cost."""
        batch = np.ascontiguousarray(np.atleast_2d(rows), dtype=np.float64)
        self.scores(batch)
        self.predict_batch(batch)

    def close(self) -> None:
        """Refuse further predictions through this ranker's scorer (the booster goes with the last reference)."""
        self._fast.close()


#: Up to this many candidates, plain Python ranks faster than numpy's per-call overhead.
_PYTHON_UP_TO = 64


def best(scores: list[float], k: int) -> tuple[list[int], list[float]]:
    """The positions of the k best scores, best first (ties to the earlier position), and
    their shares of the softmax over all scores: the model's probability that each is the
    one chosen among the candidates."""
    if k <= 0 or not scores:
        return [], []
    if len(scores) > _PYTHON_UP_TO:
        values = np.array(scores)
        weights = np.exp(values - values.max())
        positions: list[int] = np.argsort(-values, kind="stable")[:k].tolist()
        shares: list[float] = (weights[positions] / weights.sum()).tolist()
        return positions, shares
    top = max(scores)
    exps = [math.exp(v - top) for v in scores]
    total = sum(exps)
    positions = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)[:k]
    return positions, [exps[i] / total for i in positions]
