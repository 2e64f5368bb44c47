"""The clustering space and the final k-means: log1p + standardization, redundant features
dropped, then k-means with clusters below the minimum size merged away.

Euclidean k-means gives every feature one vote per standard deviation, so two near-copies
of one behaviour (events and sessions, purchases and money spent) would vote twice on that
axis; `prune_redundant` keeps the first of any pair correlated above a bound.

Which standard deviation: the population's (Scaling.TOTAL) counts the spread *between*
segments as noise, so the features that separate segments best are shrunk the most.
Scaling.WITHIN measures each feature in its pooled within-segment SD instead, found together
with the segments (`fit_within`): classification EM for a Gaussian mixture with one shared
diagonal covariance and equal weights, whose assignment rule is still the nearest centroid
once each feature is divided by its SD, so the service's per-feature (x - mean) / scale and
nearest-centroid rule serve it unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from decision.sources.segment_features import BEHAVIOUR_BY_NAME

N_INIT = 10  # k-means restarts; the best inertia wins
#: k-means threads. These fits are small and the machines shared: measured on 2 busy cores,
#: one thread swept k = 2..7 over 480 points in 0.17 s, the OpenMP default in 1.6 s.
THREADS = 1
#: Rounds of `fit_within` at most; on the generator's data the scales settle in 5 to 12.
MAX_ROUNDS = 30
#: `fit_within` stops when no feature's scale moved by more than this fraction in a round.
TOLERANCE = 1e-4
#: Floor of a within-segment SD, in population SDs: a feature constant inside every segment
#: (a discrete one split exactly) would otherwise get an infinite weight.
MIN_WITHIN_SD = 1e-2


class Scaling(StrEnum):
    """The unit each clustering feature is measured in (see the module docstring)."""

    WITHIN = "within"  # pooled within-segment SD, estimated with the segments
    TOTAL = "total"  # population SD


@dataclass(frozen=True)
class Transform:
    """Feature-wise log1p (where the feature's definition says so), then (x - mean) / scale."""

    names: tuple[str, ...]
    log1p: tuple[bool, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]

    @classmethod
    def fit(cls, frame: pd.DataFrame, names: tuple[str, ...]) -> Transform:
        flags = tuple(BEHAVIOUR_BY_NAME[n].log1p for n in names)
        logged = _log1p(frame, names, flags)
        std = logged.std(axis=0)
        # a constant feature cannot separate anyone: scale 1 keeps it at 0 instead of dividing by 0
        scales = np.where(std > 0, std, 1.0)
        return cls(names, flags, tuple(map(float, logged.mean(axis=0))), tuple(map(float, scales)))

    def apply(self, frame: pd.DataFrame) -> np.ndarray:
        z: np.ndarray = (_log1p(frame, self.names, self.log1p) - np.array(self.means)) / np.array(self.scales)
        return z

    def rescaled(self, factors: np.ndarray) -> Transform:
        """The same transform with each scale multiplied: z / factors in one step, the form the
        model file stores and the service applies."""
        scales = tuple(float(s * f) for s, f in zip(self.scales, factors, strict=True))
        return Transform(self.names, self.log1p, self.means, scales)

    def select(self, names: tuple[str, ...]) -> Transform:
        keep = [self.names.index(n) for n in names]
        return Transform(
            names,
            tuple(self.log1p[i] for i in keep),
            tuple(self.means[i] for i in keep),
            tuple(self.scales[i] for i in keep),
        )


@dataclass(frozen=True)
class Pruned:
    feature: str
    kept: str  # the earlier feature it nearly duplicates
    correlation: float


@dataclass(frozen=True)
class Merge:
    """Cluster `cluster` (numbered as k-means first found them) had `size` < the minimum size;
    its users went to the nearest centroid, `into`."""

    cluster: int
    size: int
    into: int


@dataclass(frozen=True)
class Clustering:
    centroids: np.ndarray  # (segments, features), largest segment first
    labels: np.ndarray  # (users,), index into centroids; each user's nearest centroid
    merges: list[Merge]


def prune_redundant(z: np.ndarray, names: tuple[str, ...], max_correlation: float) -> list[Pruned]:
    """Features (in `names` order) whose |Pearson r| with an earlier kept feature exceeds the bound."""
    with np.errstate(invalid="ignore", divide="ignore"):  # a constant column has no correlation
        r = np.nan_to_num(np.corrcoef(z, rowvar=False).reshape(len(names), len(names)))
    kept: list[int] = []
    pruned: list[Pruned] = []
    for i, name in enumerate(names):
        twin = next((j for j in kept if abs(r[i, j]) > max_correlation), None)
        if twin is None:
            kept.append(i)
        else:
            pruned.append(Pruned(name, names[twin], float(r[i, twin])))
    return pruned


def kmeans(k: int, seed: int, init: np.ndarray | None = None) -> KMeans:
    """k-means with N_INIT restarts, or one run from the centroids `init`."""
    if init is None:
        return KMeans(n_clusters=k, n_init=N_INIT, random_state=seed)
    return KMeans(n_clusters=k, init=init, n_init=1, random_state=seed)


def within_sd(z: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Per feature: the root of the pooled within-cluster variance (floored at MIN_WITHIN_SD)."""
    sd: np.ndarray = np.maximum(np.sqrt((_residuals(z, labels, k) ** 2).mean(axis=0)), MIN_WITHIN_SD)
    return sd


def fit_within(z: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, KMeans]:
    """(per-feature divisor, k-means fitted on z / divisor) with the divisor each feature's
    pooled within-cluster SD of that very clustering.

    Alternates k-means in the current unit with re-estimating the unit from its clusters, each
    k-means warm-started from the last centroids: coordinate ascent on the classification
    likelihood of a shared-diagonal-covariance mixture, so it cannot cycle. The first fit is
    the ordinary one on population-standardized z (restarts, best inertia)."""
    with threadpool_limits(limits=THREADS):
        sd = np.ones(z.shape[1])
        model = kmeans(k, seed).fit(z)
        for _ in range(MAX_ROUNDS):
            new = within_sd(z, model.labels_, k)
            moved = float(np.abs(new / sd - 1).max())
            start = model.cluster_centers_ * sd / new
            model = kmeans(k, seed, start).fit(z / new)
            sd = new
            if moved < TOLERANCE:
                break
        return sd, model


def inertia(z: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Within-cluster sum of squares in z's own unit, so it compares across k whatever the scaling."""
    return float((_residuals(z, labels, k) ** 2).sum())


def _residuals(z: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Each row minus its cluster's mean."""
    counts = np.bincount(labels, minlength=k)
    sums = np.zeros((k, z.shape[1]))
    np.add.at(sums, labels, z)
    means = sums / np.maximum(counts, 1)[:, None]
    residuals: np.ndarray = z - means[labels]
    return residuals


def fit_with_min_size(z: np.ndarray, k: int, min_size: int, seed: int, init: np.ndarray | None = None) -> Clustering:
    """k-means (from the centroids `init` if given: the sweep's fit of this k), then while a
    cluster has fewer than `min_size` users: drop the smallest one's centroid and let k-means
    converge again from the others (its users go to their nearest remaining centroid, mostly
    the nearest cluster's). Labels stay each user's nearest centroid,
    which is what the serving assigner computes."""
    with threadpool_limits(limits=THREADS):
        return _fit_with_min_size(z, k, min_size, seed, init)


def _fit_with_min_size(z: np.ndarray, k: int, min_size: int, seed: int, init: np.ndarray | None) -> Clustering:
    fitted = kmeans(k, seed, init).fit(z)
    centers, labels = fitted.cluster_centers_, fitted.labels_
    ids = list(range(k))
    merges: list[Merge] = []
    while len(centers) > 1:
        sizes = np.bincount(labels, minlength=len(centers))
        if sizes.min() >= min_size:
            break
        small = int(np.argmin(sizes))
        distance = ((centers - centers[small]) ** 2).sum(axis=1)
        distance[small] = np.inf
        merges.append(Merge(ids[small], int(sizes[small]), ids[int(np.argmin(distance))]))
        centers = np.delete(centers, small, axis=0)
        del ids[small]
        fitted = kmeans(len(centers), seed, centers).fit(z)
        centers, labels = fitted.cluster_centers_, fitted.labels_
    order = np.argsort(-np.bincount(labels, minlength=len(centers)), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return Clustering(centers[order], rank[labels], merges)


def _log1p(frame: pd.DataFrame, names: tuple[str, ...], flags: tuple[bool, ...]) -> np.ndarray:
    values = frame[list(names)].to_numpy(dtype=np.float64, copy=True)
    for i, flag in enumerate(flags):
        if flag:
            values[:, i] = np.log1p(values[:, i])
    return values
