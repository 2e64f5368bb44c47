"""A profile in one feature spec's terms, and the item and pair blocks of the candidate rows.

Shared by training and serving through decision/sources/features.py `rows()` and `row_buffer()`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from decision.sources.feature_definitions import CO_ENGAGED, ITEM_COLUMNS, PAIR_FEATURES
from decision.sources.feature_spec import FeatureSpec, ItemStats

if TYPE_CHECKING:  # annotations only: features.py imports this module
    from decision.sources.features import KeptTail, Profile


@dataclass(frozen=True, slots=True)
class ProfileView:
    """A profile in one spec's terms: what the pair block needs, as arrays over spec indices."""

    spec_version: str
    clicked: np.ndarray  # spec item indices the user clicked
    clicked_counts: np.ndarray  # their click counts
    last_item: int  # spec index of the last engaged content, -1 if none or unknown
    engaged: np.ndarray  # antecedent indices of the engaged content (catalog items keep their index)
    excluded: frozenset[int]  # engaged items that may not be shown again
    category_share: np.ndarray  # by category code (0 = other)
    category_hours: np.ndarray  # by category code: minus the hour of the last event in it, NaN if never
    #: serving's cache: the last candidates array asked about (by identity) and its item and
    #: pair blocks (category_hours relative: without now's hour)
    tail: list[tuple[np.ndarray, KeptTail]]
    #: serving's cache: a candidate stage (by identity) and this user's candidates in it
    stage: list[tuple[object, list[int], np.ndarray]]


def view(spec: FeatureSpec, profile: Profile) -> ProfileView:
    """`profile` in `spec`'s terms, computed once per profile and spec (a one-entry cache)."""
    cached = profile._view
    if cached and cached[0].spec_version == spec.version:
        return cached[0]
    index, antecedent = spec.item_index, spec.antecedent_index
    clicked = [(index[c], n) for c, n in profile.content_clicks.items() if c in index]
    engaged = np.array([antecedent[c] for c in profile.engaged if c in antecedent], dtype=np.intp)
    n_codes = len(spec.categories) + 1
    share = np.zeros(n_codes)
    last = np.full(n_codes, math.nan)
    total = sum(profile.category_events.values())
    for category, count in profile.category_events.items() if total else ():
        share[spec.category_code.get(category, 0)] += count / total
    for category, seen in profile.category_last.items():
        code = spec.category_code.get(category, 0)
        last[code] = seen if math.isnan(last[code]) else max(seen, last[code])
    result = ProfileView(
        spec.version,
        np.array([i for i, _ in clicked], dtype=np.intp),
        np.array([n for _, n in clicked], dtype=np.float64),
        index.get(profile.last_content, -1),
        engaged,
        spec.not_repeatable.intersection(engaged[engaged < len(spec.items)].tolist()),
        share,
        -last / 3600.0,
        [],
        [],
    )
    profile._view[:] = [result]
    return result


def excluded(spec: FeatureSpec, profile: Profile | None) -> frozenset[int]:
    """Spec indices of content this user engaged with that may not be shown to them again."""
    return frozenset() if profile is None else view(spec, profile).excluded


def request_excluded(spec: FeatureSpec, profile: Profile | None, exclude_content_ids: Iterable[str]) -> frozenset[int]:
    """Spec indices one request may not show: `excluded` plus the request's own exclusions.

    Shared by the model tier and the off-policy re-scoring (training/ope/rescore.py), which
    must rebuild the candidates the service ranked."""
    skip = excluded(spec, profile)
    index = spec.item_index
    asked = [index[c] for c in exclude_content_ids if c in index]
    return skip.union(asked) if asked else skip


def item_columns(spec: FeatureSpec, stats: ItemStats, items: np.ndarray) -> np.ndarray:
    """The item block of `items` (spec indices) under `stats`: shape (len(items), ITEM_COLUMNS).

    The service computes it once for every spec item (its statistics do not move) and gathers
    the candidates' rows per request; training's statistics move with every event, so it
    computes the candidates' block per decision. Either way these values.
    """
    out = np.empty((items.size, ITEM_COLUMNS), dtype=np.float64)
    out[:, 0] = items + 1
    out[:, 1] = spec.item_category_codes[items]
    popularity = stats.clicks[items] * (1.0 / stats.clicks_total if stats.clicks_total else 0.0)
    recent = stats.recent[items] * (1.0 / stats.recent_total if stats.recent_total else 0.0)
    users = stats.engaged_users[items]
    out[:, 2] = popularity
    out[:, 3] = recent
    with np.errstate(divide="ignore", invalid="ignore"):
        out[:, 4] = np.where(popularity > 0, recent / popularity, math.nan)
        out[:, 5] = np.where(users > 0, stats.order_sum[items] / users, math.nan)
    return out


def pair_columns(
    spec: FeatureSpec, stats: ItemStats, seen: ProfileView, candidates: np.ndarray, block: np.ndarray
) -> np.ndarray:
    """The pair block, but for category_hours: minus the hour of the user's last event in the
    candidate's category (`rows` adds now's hour), so that it does not depend on now."""
    out = np.empty((candidates.size, len(PAIR_FEATURES)), dtype=np.float64)
    if seen.clicked.size:
        clicks = np.zeros(len(spec.items))
        clicks[seen.clicked] = seen.clicked_counts
        out[:, 0] = clicks[candidates]
    else:
        out[:, 0] = 0.0
    out[:, 1] = candidates == seen.last_item
    categories = block[:, 1].astype(np.intp)
    out[:, 2] = seen.category_share[categories]
    out[:, 3] = seen.category_hours[categories]
    order = block[:, 5]
    engaged = seen.engaged
    if engaged.size:
        _links(out, stats, engaged, candidates)
        last = engaged[-1]
        users = stats.engaged_users[last]
        out[:, 8] = order - (stats.order_sum[last] / users if users else math.nan)
    else:
        out[:, 4:7] = 0.0
        out[:, 8] = math.nan
    out[:, 7] = engaged.size - order
    return out


def _links(out: np.ndarray, stats: ItemStats, engaged: np.ndarray, candidates: np.ndarray) -> None:
    """Co-engagement columns of the pair block: what the user's content says about each candidate.

    `take` over whole rows, then the candidates: a quarter of `np.ix_`'s cost on the request
    path, with every row summed in the same order."""
    recent = engaged[-CO_ENGAGED:]
    denominator = stats.engaged_users[recent].sum()
    out[:, 4] = _summed(stats.follows, recent, candidates) / denominator if denominator else 0.0
    recent = engaged[-3:]
    after = stats.successors[recent].sum()
    out[:, 5] = _summed(stats.next, recent, candidates) / after if after else 0.0
    recent = engaged[-5:]
    after = stats.near_out[recent].sum()
    out[:, 6] = _summed(stats.near, recent, candidates) / after if after else 0.0


def _summed(matrix: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """matrix[rows, :][:, columns] summed over the rows."""
    summed: np.ndarray = matrix.take(rows, axis=0).sum(axis=0)
    return summed.take(columns)
