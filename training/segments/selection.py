"""Choosing k: silhouette per k (the highest wins) and how stable each k's clustering is.

Each k is clustered in its own unit (clustering.Scaling): with Scaling.WITHIN every feature is
divided by its pooled within-cluster SD of that k's clustering. The silhouettes are all taken
in one unit, the population SD, so that they compare partitions: in its own unit a k that
leaves a real split unmade inflates that feature's within-SD, shrinks the feature, and looks
better separated than it is (on four planted blobs k = 3 then beat k = 4).

Stability: k-means is fitted, in the k's unit held fixed, on `bootstrap` resamples of the
users (drawn with replacement); for every pair of resamples, both fitted models label the
users the two resamples share and the adjusted Rand index compares those labelings. 1 means
every resample finds the same segments; values near 0 mean the segments are an accident of
the sample.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
from sklearn.metrics import adjusted_rand_score, silhouette_score
from threadpoolctl import threadpool_limits

from training.segments.clustering import THREADS, Scaling, fit_within, inertia, kmeans

#: Silhouette costs O(n²): above this many users it is computed on a seeded sample of them.
SILHOUETTE_SAMPLE = 5_000


@dataclass(frozen=True)
class KScore:
    k: int
    silhouette: float  # in population SDs whatever the scaling, so it compares across k
    stability: float  # mean ARI over resample pairs; NaN without resamples
    stability_min: float
    inertia: float  # within-cluster sum of squares in population SDs, comparable across k
    labels: np.ndarray = field(repr=False, compare=False)  # (users,) this k's k-means labels
    divisor: np.ndarray = field(repr=False, compare=False)  # (features,) z / divisor was clustered
    centroids: np.ndarray = field(repr=False, compare=False)  # (k, features) in z / divisor


def sweep(
    z: np.ndarray,
    k_range: Sequence[int],
    seed: int,
    bootstrap: int,
    progress: Callable[[int], object] = lambda n: None,
    scaling: Scaling = Scaling.WITHIN,
) -> list[KScore]:
    """One KScore per k that leaves at least two users per cluster on average."""
    usable = [k for k in k_range if 2 <= k <= len(z) // 2]
    if not usable:
        raise ValueError(f"no k in {list(k_range)} fits {len(z)} users; use k >= 2 and at least 2 users per cluster")
    sample = min(len(z), SILHOUETTE_SAMPLE)
    scores = []
    for k in usable:
        if scaling is Scaling.WITHIN:
            divisor, model = fit_within(z, k, seed)
        else:
            with threadpool_limits(limits=THREADS):
                divisor, model = np.ones(z.shape[1]), kmeans(k, seed).fit(z)
        labels = model.labels_
        silhouette = float(silhouette_score(z, labels, sample_size=sample, random_state=seed))
        mean, low = stability(z / divisor, k, seed, bootstrap)
        scores.append(KScore(k, silhouette, mean, low, inertia(z, labels, k), labels, divisor, model.cluster_centers_))
        progress(1)
    return scores


def best(scores: Sequence[KScore]) -> KScore:
    """The highest silhouette; the smaller k on a tie (fewer segments are easier to act on)."""
    return max(scores, key=lambda s: (s.silhouette, -s.k))


def stability(z: np.ndarray, k: int, seed: int, bootstrap: int) -> tuple[float, float]:
    """(mean, min) ARI between the clusterings of resample pairs, on the users both contain."""
    if bootstrap < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    fits = []
    with threadpool_limits(limits=THREADS):
        for b in range(bootstrap):
            rows = rng.integers(0, len(z), len(z))
            fits.append((np.unique(rows), kmeans(k, seed + b).fit(z[rows])))
    aris = []
    for (rows_a, model_a), (rows_b, model_b) in combinations(fits, 2):
        common = z[np.intersect1d(rows_a, rows_b, assume_unique=True)]
        aris.append(adjusted_rand_score(model_a.predict(common), model_b.predict(common)))
    return float(np.mean(aris)), float(np.min(aris))
