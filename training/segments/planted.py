"""How well discovered segments recover planted ones (synthetic data), and how far they could.

Besides the adjusted Rand index (ARI) of the result and its planted x discovered table, two
reference points say whether a miss is the method's fault or the data's:

- nearest planted mean: every user goes to the planted segment whose mean (same features,
  same scale) is nearest. It is the nearest-centroid rule handed the true centroids, so a
  centroid-based segmentation cannot be expected to do much better.
- supervised ceiling: linear discriminant analysis trained on the planted labels
  (5-fold cross-validated predictions), what the features allow when the answer is known.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from training.segments.selection import KScore

MISSING = "(not in users table)"


@dataclass(frozen=True)
class Planted:
    ari: float
    confusion: pd.DataFrame  # user counts: planted segment (rows) x discovered segment (columns)
    ari_by_k: dict[int, float]  # each k of the sweep, before the minimum-size merge
    nearest_mean_ari: float
    supervised_ari: float
    spread: pd.DataFrame  # per planted segment: users and quartiles of each clustering feature


def planted_labels(index: pd.Index, users: pd.DataFrame | None) -> np.ndarray | None:
    """The users table's `segment` for each user of `index`, or None without one."""
    if users is None or "segment" not in users.columns:
        return None
    planted = users["segment"].reindex(index).astype(object).fillna(MISSING)
    return planted.astype(str).to_numpy()


def compare(
    truth: np.ndarray,
    discovered: Sequence[str],
    z: np.ndarray,
    raw: pd.DataFrame,
    scores: Sequence[KScore],
    seed: int,
) -> Planted:
    """`z`: the clustering features as clustered; `raw`: the same features in their own units."""
    confusion = pd.crosstab(pd.Series(truth, name="planted"), pd.Series(list(discovered), name="discovered"))
    return Planted(
        ari=float(adjusted_rand_score(truth, discovered)),
        confusion=confusion,
        ari_by_k={s.k: float(adjusted_rand_score(truth, s.labels)) for s in scores},
        nearest_mean_ari=_nearest_mean_ari(truth, z),
        supervised_ari=_supervised_ari(truth, z, seed),
        spread=_spread(truth, raw),
    )


def _nearest_mean_ari(truth: np.ndarray, z: np.ndarray) -> float:
    classes = np.unique(truth)
    means = np.array([z[truth == c].mean(axis=0) for c in classes])
    nearest = ((z[:, None, :] - means[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    return float(adjusted_rand_score(truth, classes[nearest]))


def _supervised_ari(truth: np.ndarray, z: np.ndarray, seed: int) -> float:
    counts = pd.Series(truth).value_counts()
    folds = int(min(5, counts.min()))
    if folds < 2 or len(counts) < 2:
        return float("nan")
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    predicted = cross_val_predict(LinearDiscriminantAnalysis(), z, truth, cv=splitter)
    return float(adjusted_rand_score(truth, predicted))


def _spread(truth: np.ndarray, raw: pd.DataFrame) -> pd.DataFrame:
    grouped = raw.groupby(truth)
    out = pd.DataFrame({"users": grouped.size()})
    for name in raw.columns:
        q = grouped[name].quantile(np.array([0.25, 0.5, 0.75])).unstack()
        out[f"{name} q1"], out[f"{name} median"], out[f"{name} q3"] = q[0.25], q[0.5], q[0.75]
    return out.rename_axis("planted").reset_index()
