"""Segment names from their dominant traits: where each segment's mean stands against everyone.

A trait is a behaviour feature whose segment mean lies at least TRAIT_THRESHOLD population
standard deviations (on the clustering scale: log1p where flagged) from the population mean;
the strongest MAX_WORDS traits, as words, precede "shoppers" (the segment has at least the
population's share of buyers) or "browsers" (fewer): "frequent long-standing shoppers".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

#: (word when the segment is above the population, word when below) for each behaviour feature.
TRAIT_WORDS: Mapping[str, tuple[str, str]] = {
    "recency_days": ("lapsing", "recently-active"),
    "tenure_days": ("long-standing", "new"),
    "sessions": ("frequent", "occasional"),
    "events": ("highly-engaged", "light"),
    "purchases": ("repeat-buying", "rarely-buying"),
    "monetary": ("high-spend", "low-spend"),
    "avg_order_value": ("big-basket", "small-basket"),
    "events_per_session": ("deep-browsing", "quick-visit"),
    "click_rate": ("click-happy", "click-shy"),
    "cart_rate": ("cart-filling", "cart-shy"),
    "purchase_rate": ("converting", "non-converting"),
    "top_category_share": ("single-category", "multi-category"),
}
TRAIT_THRESHOLD = 0.5
MAX_WORDS = 3
#: Telling clashing names apart may use weaker traits, but not ones this close to everyone.
TIEBREAK_THRESHOLD = 0.1


def trait_z(z: np.ndarray, labels: np.ndarray, segments: int) -> np.ndarray:
    """(segments, features): each segment's mean of `z`, population-standardized features, so the
    mean itself is the distance from the population mean in population standard deviations."""
    return np.array([z[labels == s].mean(axis=0) for s in range(segments)])


def traits(z_row: np.ndarray, features: Sequence[str]) -> list[tuple[str, float]]:
    """(feature, z) strongest first."""
    order = np.argsort(-np.abs(z_row), kind="stable")
    return [(features[i], float(z_row[i])) for i in order]


def word(feature: str, z: float) -> str:
    high, low = TRAIT_WORDS[feature]
    return high if z > 0 else low


def name_segments(
    z_means: np.ndarray, features: Sequence[str], buyer_share: Sequence[float], population_buyer_share: float
) -> list[str]:
    """One unique name per segment (row of `z_means`).

    Segments that would share a name take further traits, strongest first (down to
    TIEBREAK_THRESHOLD), until the names differ; if those run out, a number tells them apart.
    """
    ranked = [traits(row, features) for row in z_means]
    nouns = ["shoppers" if b >= population_buyer_share else "browsers" for b in buyer_share]
    words = [min(MAX_WORDS, sum(abs(z) >= TRAIT_THRESHOLD for _, z in r)) for r in ranked]
    usable = [sum(abs(z) >= TIEBREAK_THRESHOLD for _, z in r) for r in ranked]
    names = [_compose(r[:n], noun) for r, n, noun in zip(ranked, words, nouns, strict=True)]
    while True:
        counts = Counter(names)
        clashing = [i for i, name in enumerate(names) if counts[name] > 1 and words[i] < usable[i]]
        if not clashing:
            break
        for i in clashing:
            words[i] += 1
            names[i] = _compose(ranked[i][: words[i]], nouns[i])
    seen: Counter[str] = Counter()
    unique = []
    for name in names:
        seen[name] += 1
        unique.append(name if seen[name] == 1 else f"{name} {seen[name]}")
    return unique


def _compose(strongest: Sequence[tuple[str, float]], noun: str) -> str:
    if not strongest:
        return f"typical {noun}"
    return " ".join([*(word(f, z) for f, z in strongest), noun])
