"""The clustering space and the final k-means: log1p + standardization, redundant features
dropped, then k-means with clusters below the minimum size merged away.

Euclidean k-means gives every feature one vote per standard deviation, so two near-copies
of one behaviour (events and sessions, purchases and money spent) would vote twice on that
axis; `prune_redundant` keeps the first of any pair correlated above a bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from decision.sources.segment_features import BEHAVIOUR_BY_NAME

N_INIT = 10  # k-means restarts; the best inertia wins
#: k-means threads. These fits are small and the machines shared: measured on 2 busy cores,
#: one thread swept k = 2..7 over 480 points in 0.17 s, the OpenMP default in 1.6 s.
THREADS = 1


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


def kmeans(k: int, seed: int) -> KMeans:
    return KMeans(n_clusters=k, n_init=N_INIT, random_state=seed)


def fit_with_min_size(z: np.ndarray, k: int, min_size: int, seed: int) -> Clustering:
    """k-means, then while a cluster has fewer than `min_size` users: drop the smallest one's
    centroid and let k-means converge again from the others (its users go to their nearest
    remaining centroid, mostly the nearest cluster's). Labels stay each user's nearest centroid,
    which is what the serving assigner computes."""
    with threadpool_limits(limits=THREADS):
        return _fit_with_min_size(z, k, min_size, seed)


def _fit_with_min_size(z: np.ndarray, k: int, min_size: int, seed: int) -> Clustering:
    fitted = kmeans(k, seed).fit(z)
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
        fitted = KMeans(n_clusters=len(centers), init=centers, n_init=1, random_state=seed).fit(z)
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
