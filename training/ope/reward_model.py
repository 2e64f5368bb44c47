"""The reward model q_hat(x, a) behind DM and DR, cross-fitted so no decision is scored by a model that saw it.

Choice: L2-regularized logistic regression (ridge regression for non-binary rewards) on
one-hot features: the action, each context value, and each context value x action. It
is additive in the logit, which suits categorical contexts and tens of actions, fits in
seconds, and predicts every (context, action) pair of a million decisions cheaply.
Gradient boosting was not chosen: DM and DR need a prediction for every action in every
context, and boosting gains little over interactions of one-hot categories.

Decisions sharing a context and action share their features, so each fit runs on those
groups (successes and failures as weights), which is the same likelihood as row by row.
With K folds, the model for fold k is fitted on the other folds and predicts fold k:
its errors are then independent of the rows it corrects, which DR's bias bound needs
(Chernozhukov et al. 2018; OBP's `RegressionModel.fit_predict(n_folds=...)`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold

from training.ope.logged import LoggedFeedback

DEFAULT_FOLDS = 3
#: Inverse L2 strength on the summed log loss: weak next to a million decisions, firm on sparse cells.
DEFAULT_C = 1.0
_PREDICT_PAIRS = 2_000_000  # (context, action) pairs scored at once

Predictor = Callable[[sparse.csr_matrix], np.ndarray]


@dataclass(frozen=True)
class RewardPredictions:
    """Cross-fitted predictions per decision: at the logged action and averaged over the target policy."""

    q_logged: np.ndarray  # (n,) q_hat(x_i, a_i)
    q_target: np.ndarray  # (n,) sum_a pi(a | x_i) q_hat(x_i, a)
    kind: str  # "logistic" or "ridge"
    folds: int


@dataclass(frozen=True)
class _Design:
    """Column layout of the one-hot design: actions, then context values, then context value x action."""

    codes: np.ndarray  # (contexts, columns) global index of each context's value
    values: int
    actions: int

    @classmethod
    def of(cls, logged: LoggedFeedback) -> _Design:
        offset, blocks = 0, []
        for column in logged.contexts.columns:
            codes, uniques = pd.factorize(logged.contexts[column])
            blocks.append(codes + offset)
            offset += len(uniques)
        codes = np.column_stack(blocks) if blocks else np.zeros((len(logged.contexts), 0), dtype=np.int64)
        return cls(codes, offset, len(logged.actions))

    def matrix(self, context: np.ndarray, action: np.ndarray) -> sparse.csr_matrix:
        """One row per (context, action) pair."""
        values = self.codes[context]
        interaction = self.actions + self.values + values * self.actions + action[:, None]
        columns = np.column_stack([action, self.actions + values, interaction])
        rows = len(context)
        width = columns.shape[1]
        indptr = np.arange(0, rows * width + 1, width)
        data = np.ones(rows * width)
        shape = (rows, self.actions * (1 + self.values) + self.values)
        return sparse.csr_matrix((data, columns.ravel(), indptr), shape=shape)


def cross_fitted_rewards(
    logged: LoggedFeedback,
    target: np.ndarray,
    folds: int = DEFAULT_FOLDS,
    seed: int = 0,
    c: float = DEFAULT_C,
) -> RewardPredictions:
    """q_hat at the logged action and under `target` (distinct contexts x actions) for every decision."""
    design = _Design.of(logged)
    binary = bool(np.isin(logged.reward, (0.0, 1.0)).all())
    q_logged = np.empty(logged.decisions)
    q_target = np.empty(logged.decisions)
    splitter = KFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, held_out in splitter.split(np.zeros((logged.decisions, 1))):
        predict = _fit(design, logged, train, binary, c)
        contexts, position = np.unique(logged.context_index[held_out], return_inverse=True)
        expected = np.empty((len(contexts), design.actions))
        step = max(1, _PREDICT_PAIRS // design.actions)
        for start in range(0, len(contexts), step):
            block = contexts[start : start + step]
            pairs_context = np.repeat(block, design.actions)
            pairs_action = np.tile(np.arange(design.actions), len(block))
            expected[start : start + step] = predict(design.matrix(pairs_context, pairs_action)).reshape(len(block), -1)
        q_logged[held_out] = expected[position, logged.action[held_out]]
        q_target[held_out] = (expected * target[contexts]).sum(axis=1)[position]
    return RewardPredictions(q_logged, q_target, "logistic" if binary else "ridge", folds)


def _fit(design: _Design, logged: LoggedFeedback, rows: np.ndarray, binary: bool, c: float) -> Predictor:
    """Fit on `rows` grouped by (context, action); returns a function from a design matrix to predictions."""
    key = logged.context_index[rows] * design.actions + logged.action[rows]
    groups, inverse = np.unique(key, return_inverse=True)
    counts = np.bincount(inverse).astype(np.float64)
    sums = np.bincount(inverse, weights=logged.reward[rows])
    features = design.matrix(groups // design.actions, groups % design.actions)
    if binary:
        if sums.sum() in (0.0, counts.sum()):  # one class only: the model is the constant rate
            rate = sums.sum() / counts.sum()
            return lambda x: np.full(x.shape[0], rate)
        stacked = sparse.vstack([features, features], format="csr")
        labels = np.r_[np.ones(len(groups)), np.zeros(len(groups))]
        weights = np.r_[sums, counts - sums]
        keep = weights > 0
        model = LogisticRegression(C=c, max_iter=2_000)
        model.fit(stacked[keep], labels[keep], sample_weight=weights[keep])
        return lambda x: np.asarray(model.predict_proba(x)[:, 1])
    ridge = Ridge(alpha=1.0 / c)
    ridge.fit(features, sums / counts, sample_weight=counts)
    return lambda x: np.asarray(ridge.predict(x))
