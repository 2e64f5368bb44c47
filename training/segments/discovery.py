"""`discover`: event log in, named micro-segments and the serving model out.

Behaviour as of an instant → the clustering features on a log1p + standardized scale
(near-duplicates dropped) → per k, k-means with each feature in its within-segment SD
(clustering.Scaling) → k by silhouette, with bootstrap stability → that k's k-means with small
clusters merged → RFM edges → names and per-segment profiles → a SegmentModel the service
loads. With a users table that has a planted `segment` column (synthetic data), the result is
compared with it (adjusted Rand index and the planted x discovered table).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from tqdm import tqdm

from decision.sources.segment_features import BEHAVIOUR_NAMES
from decision.sources.segment_file import SegmentProfile
from decision.sources.segments import SegmentModel
from training.segments.behaviour import Behaviour, behaviour
from training.segments.clustering import Merge, Pruned, Scaling, Transform, fit_with_min_size, prune_redundant
from training.segments.naming import name_segments, trait_z, traits
from training.segments.planted import Planted, compare, planted_labels
from training.segments.rfm import fit_rfm, score
from training.segments.selection import KScore, best, sweep

#: The lifecycle axes: how recently, how long, how often, how much. Behaviour mix (rates,
#: category focus) describes and names segments but does not place users unless asked for.
DEFAULT_FEATURES = ("recency_days", "tenure_days", "sessions", "events", "purchases", "monetary")
DEFAULT_K_RANGE = range(3, 9)
DEFAULT_MIN_SIZE = 100
DEFAULT_BOOTSTRAP = 10
MAX_CORRELATION = 0.9
TOP_CATEGORIES = 3
TOP_TRAITS = 5


@dataclass(frozen=True)
class SegmentDiscovery:
    """Everything found. `behaviour` holds user ids: nothing here that is written carries them."""

    model: SegmentModel
    behaviour: Behaviour
    features: tuple[str, ...]  # what the clustering used, after pruning
    pruned: list[Pruned]
    scores: list[KScore]  # one per k tried
    chosen: KScore
    merges: list[Merge]
    min_size: int
    labels: np.ndarray  # (users,) index into model.segments
    rfm: np.ndarray  # (users, 3) R, F, M scores
    trait_z: pd.DataFrame  # segments x every behaviour feature, in population SDs
    planted: Planted | None
    scaling: Scaling
    divisor: np.ndarray  # (features,) the chosen k's unit, in population SDs of each used feature


def discover(
    events: pd.DataFrame,
    users: pd.DataFrame | None = None,
    as_of: datetime | None = None,
    k_range: Sequence[int] = DEFAULT_K_RANGE,
    min_size: int = DEFAULT_MIN_SIZE,
    seed: int = 7,
    features: Sequence[str] = DEFAULT_FEATURES,
    bootstrap: int = DEFAULT_BOOTSTRAP,
    max_correlation: float = MAX_CORRELATION,
    progress: bool = False,
    scaling: Scaling = Scaling.WITHIN,
) -> SegmentDiscovery:
    """Segments of the users with events before `as_of` (default: just after the last event).

    `events` must be validated by training.schema; `users` is training.io.load_users' table.
    """
    unknown = sorted(set(features) - set(BEHAVIOUR_NAMES))
    if unknown:
        raise ValueError(f"unknown feature(s) {unknown}; choose from {', '.join(BEHAVIOUR_NAMES)}")
    with tqdm(total=len(events), desc="behaviour", unit="ev", disable=not progress) as bar:
        seen = behaviour(events, as_of, bar.update)
    everything = Transform.fit(seen.frame, BEHAVIOUR_NAMES)
    z_all = everything.apply(seen.frame)
    candidates = tuple(dict.fromkeys(features))
    pruned = prune_redundant(z_all[:, [BEHAVIOUR_NAMES.index(n) for n in candidates]], candidates, max_correlation)
    used = tuple(n for n in candidates if n not in {p.feature for p in pruned})
    standardized = z_all[:, [BEHAVIOUR_NAMES.index(n) for n in used]]
    with tqdm(total=len(k_range), desc="k sweep", unit="k", disable=not progress) as bar:
        scores = sweep(standardized, k_range, seed, bootstrap, bar.update, scaling)
        chosen = best(scores)
    # the chosen k's unit goes into the transform: the service divides by it as training did
    transform = everything.select(used).rescaled(chosen.divisor)
    z = standardized / chosen.divisor
    clustering = fit_with_min_size(z, chosen.k, min_size, seed, chosen.centroids)
    labels, count = clustering.labels, len(clustering.centroids)
    rfm_edges = fit_rfm(seen.frame)
    rfm = score(rfm_edges, seen.frame)
    z_means = trait_z(z_all, labels, count)
    bought = seen.frame["purchases"].to_numpy() > 0
    buyer_share = [float(bought[labels == s].mean()) for s in range(count)]
    # a dropped near-duplicate would repeat its twin's word ("frequent highly-engaged")
    distinct = [i for i, n in enumerate(BEHAVIOUR_NAMES) if n not in {p.feature for p in pruned}]
    names = name_segments(
        z_means[:, distinct], [BEHAVIOUR_NAMES[i] for i in distinct], buyer_share, float(bought.mean())
    )
    profiles = tuple(_profile(seen, labels == s, names[s], rfm, z_means[s], buyer_share[s]) for s in range(count))
    model = SegmentModel(
        feature_names=used,
        log1p=transform.log1p,
        means=transform.means,
        scales=transform.scales,
        centroids=tuple(tuple(map(float, c)) for c in clustering.centroids),
        segments=profiles,
        rfm=rfm_edges,
        as_of=seen.as_of.isoformat(),
        discovery=_metadata(
            len(seen), k_range, scores, chosen, clustering.merges, pruned, min_size, seed, bootstrap, scaling, used
        ),
    )
    truth = planted_labels(seen.frame.index, users)
    planted = None
    if truth is not None:
        planted = compare(truth, [names[s] for s in labels], z, seen.frame[list(used)], scores, seed)
    return SegmentDiscovery(
        model=model,
        behaviour=seen,
        features=used,
        pruned=pruned,
        scores=scores,
        chosen=chosen,
        merges=clustering.merges,
        min_size=min_size,
        labels=labels,
        rfm=rfm,
        trait_z=pd.DataFrame(z_means, index=list(names), columns=list(BEHAVIOUR_NAMES)),
        planted=planted,
        scaling=scaling,
        divisor=chosen.divisor,
    )


def _profile(
    seen: Behaviour, members: np.ndarray, name: str, rfm: np.ndarray, z_row: np.ndarray, buyer_share: float
) -> SegmentProfile:
    frame = seen.frame[members]
    views = seen.category_views[members].sum(axis=0)
    top = views.sort_values(ascending=False, kind="stable").head(TOP_CATEGORIES)
    total = float(views.sum())
    r, f, m = (float(v) for v in rfm[members].mean(axis=0))
    sessions = float(frame["sessions"].sum())
    return SegmentProfile(
        name=name,
        size=int(members.sum()),
        share=float(members.mean()),
        rfm_mean=(r, f, m),
        conversion_rate=float(frame["purchases"].sum()) / sessions if sessions else 0.0,
        buyer_share=buyer_share,
        top_categories=tuple((str(c), float(v) / total if total else 0.0) for c, v in top.items()),
        traits=tuple(traits(z_row, BEHAVIOUR_NAMES)[:TOP_TRAITS]),
    )


def _metadata(
    users: int,
    k_range: Sequence[int],
    scores: list[KScore],
    chosen: KScore,
    merges: list[Merge],
    pruned: list[Pruned],
    min_size: int,
    seed: int,
    bootstrap: int,
    scaling: Scaling,
    used: tuple[str, ...],
) -> dict[str, object]:
    """How the model was chosen, for whoever reads the file later (no user ids)."""
    return {
        "users": users,
        "k_range": list(k_range),
        "chosen_k": chosen.k,
        "silhouette": {str(s.k): round(s.silhouette, 4) for s in scores},
        "stability_ari": {str(s.k): round(s.stability, 4) for s in scores if s.stability == s.stability},
        "min_size": min_size,
        "merged": [{"cluster": m.cluster, "size": m.size, "into": m.into} for m in merges],
        "pruned": [{"feature": p.feature, "kept": p.kept, "correlation": round(p.correlation, 4)} for p in pruned],
        "seed": seed,
        "bootstrap": bootstrap,
        "scaling": str(scaling),
        "unit_sd": {n: round(float(d), 4) for n, d in zip(used, chosen.divisor, strict=True)},
    }
