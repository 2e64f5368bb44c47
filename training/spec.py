"""Learn a FeatureSpec's vocabularies from the training part of an event log and the catalog.

The content vocabulary is the catalog; other content engaged with at least `min_count` times
(`context_items`) says what a user's history predicts (co-engagement), but is never ranked.
Categories, regions, devices, channels and
placements are the values with at least `min_count` events in the training part, in value
order; rarer values share code 0 ("other"), so a value seen a handful of times cannot
become a split the model overfits on. Value order, not frequency order: the codes (the
spec's layout) then change only when a value crosses `min_count`, so a retrain on more of
the same log, such as `training train --served`, stays comparable with its champion (two
categories trading places in frequency would otherwise renumber them). Each item's `repeatable` is the catalog's
flag, or, where the catalog does not say, learned from the log: content is repeatable
unless fewer than REPEAT_SHARE of the engagements with catalog content come back to
content the same user had already engaged with (a ratings log, where nobody rates a
movie twice, has none; a shop, where people re-open the products they like, has many).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from decision.sources.catalog import Catalog
from decision.sources.feature_spec import FeatureSpec, ItemStats
from decision.sources.features import ENGAGEMENTS

#: A vocabulary value needs this many events in the training part to get its own code.
MIN_COUNT = 20
#: Below this share of repeat engagements, content without a catalog flag is not repeatable.
REPEAT_SHARE = 0.02
#: At most this many non-catalog contents are tracked as antecedents (most engaged first).
CONTEXT_LIMIT = 2000
_VOCABULARIES = ("category", "region", "device", "channel", "placement")


def learn(events: pd.DataFrame, catalog: Catalog, min_count: int = MIN_COUNT) -> FeatureSpec:
    """The spec for `catalog` from `events` (the training part only), with empty item stats."""
    vocab = {name: vocabulary(events[name], min_count) for name in _VOCABULARIES}
    repeat = repeat_share(events, catalog)
    learned = repeat >= REPEAT_SHARE
    engaged = events.loc[events["event_type"].isin(ENGAGEMENTS), "content_id"]
    context = tuple(c for c, _ in frequent(engaged, min_count) if c not in catalog)[:CONTEXT_LIMIT]
    return FeatureSpec(
        items=catalog.content_ids,
        item_categories=tuple(item.category for item in catalog.items),
        repeatable=tuple(learned if item.repeatable is None else item.repeatable for item in catalog.items),
        categories=vocab["category"],
        regions=vocab["region"],
        devices=vocab["device"],
        channels=vocab["channel"],
        placements=vocab["placement"],
        stats=ItemStats(len(catalog), len(catalog) + len(context)),
        context_items=context,
    )


def with_stats(spec: FeatureSpec, stats: ItemStats, as_of: str) -> FeatureSpec:
    """The same vocabularies with the item statistics as of `as_of` (a new version)."""
    return replace(spec, stats=stats, as_of=as_of)


def vocabulary(values: pd.Series, min_count: int) -> tuple[str, ...]:
    """Non-empty values with at least `min_count` occurrences, in value order (see the module docstring)."""
    return tuple(sorted(value for value, _ in frequent(values, min_count)))


def frequent(values: pd.Series, min_count: int) -> list[tuple[str, int]]:
    """(value, count) of non-empty values with at least `min_count` occurrences, most frequent first, ties by value."""
    texts = values.dropna().astype(str)
    counts = texts[texts.str.strip() != ""].value_counts()
    kept = [(str(value), int(count)) for value, count in counts.items() if count >= min_count]
    return sorted(kept, key=lambda kv: (-kv[1], kv[0]))


def repeat_share(events: pd.DataFrame, catalog: Catalog) -> float:
    """Share of engagements with catalog content that return to content the user engaged with before."""
    engaged = events[events["event_type"].isin(ENGAGEMENTS) & events["content_id"].isin(catalog.content_ids)]
    if engaged.empty:
        return 1.0  # nothing to learn from: do not hide content
    return float(engaged.duplicated(["user_id", "content_id"]).mean())
