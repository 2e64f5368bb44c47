"""The candidate stage: which content one decision ranks (training, evaluation and serving alike).

Candidates are the eligible content the user may still be shown (content that is not
repeatable and that they already engaged with is left out), most popular first, at most
`limit` of them. A catalog of a few dozen items is ranked whole; a large one is cut to its
`limit` most popular eligible items, so a decision scores a bounded number of rows however
large the catalog grows. Popularity: the item's share of recent clicks plus its share of
all clicks (recent first, the whole history breaking ties and filling gaps).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from decision.sources.feature_spec import FeatureSpec, ItemStats


def popularity(stats: ItemStats, items: np.ndarray) -> np.ndarray:
    """The stage's popularity score of each item (spec indices)."""
    recent = stats.recent[items] / stats.recent_total if stats.recent_total else np.zeros(items.size)
    overall = stats.clicks[items] / stats.clicks_total if stats.clicks_total else np.zeros(items.size)
    score: np.ndarray = recent + overall
    return score


def stage_order(spec: FeatureSpec, stats: ItemStats, eligible: Iterable[str]) -> list[int]:
    """The eligible content the spec knows, as spec indices in stage order: index order when
    they all fit within the spec's candidate limit, else most popular first."""
    index = spec.item_index
    return ordered(sorted(index[c] for c in eligible if c in index), stats, spec.candidate_limit)


def ordered(indices: list[int], stats: ItemStats, limit: int) -> list[int]:
    """Sorted spec indices in stage order (see stage_order)."""
    return indices if len(indices) <= limit else by_popularity(stats, np.array(indices, dtype=np.intp))


def by_popularity(stats: ItemStats, eligible: np.ndarray) -> list[int]:
    """`eligible` (spec indices) most popular first; ties in index order."""
    order = np.argsort(-popularity(stats, eligible), kind="stable")
    return list(eligible[order].tolist())


def take(ordered: Sequence[int], excluded: Iterable[int] | frozenset[int], limit: int) -> list[int]:
    """The first `limit` of `ordered` that are not `excluded`."""
    if not excluded:
        return list(ordered[:limit])
    skip = excluded if isinstance(excluded, frozenset) else frozenset(excluded)
    out: list[int] = []
    for index in ordered:
        if index not in skip:
            out.append(index)
            if len(out) == limit:
                break
    return out
