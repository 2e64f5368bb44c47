"""The synthetic world's ground-truth preference model: how a user chooses content.

The utility of content c for a decision is a sum of effects a good model can learn from
the event log (taste shows in category views, habit in past clicks, plus recency,
frequency, monetary value, region, device, time of day, placement, session depth and cart
state), and the user picks by sampling softmax(utility): the noise. Coefficients are
drawn from the seed, so each seed is a different but reproducible world.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: The synthetic world's vocabulary (the feature code learns its own from the data).
#: ISO 3166-1 alpha-2 codes, one market each: Europe, North America, Asia-Pacific, Latin America.
REGIONS = ("DE", "US", "JP", "BR")
DEVICES = ("mobile", "desktop", "tablet")
CHANNELS = ("web", "app", "email")
PLACEMENTS = ("home_banner", "cart_page", "product_page", "email")
CATEGORIES = ("electronics", "fashion", "home", "beauty", "sports", "books", "toys", "grocery")
#: Catalog items per category in the default world (40 items).
ITEMS_PER_CATEGORY = 5


def content_vocab(per_category: int = ITEMS_PER_CATEGORY) -> tuple[str, ...]:
    """The world's content ids, `<category>-<n>`, category by category."""
    return tuple(f"{category}-{i}" for category in CATEGORIES for i in range(1, per_category + 1))


CONTENT_VOCAB = content_vocab()
TASTE_WEIGHT = 3.0
HABIT_WEIGHT = 0.8
LAPSED_DAYS = 7.0


@dataclass(frozen=True, slots=True)
class State:
    """What the world knows about the user at a decision (all of it derivable from the log)."""

    taste: np.ndarray  # per category, sums to 1
    clicks: np.ndarray  # past clicks per content (the world's vocabulary order)
    region: int
    device: int
    placement: int
    hour: int
    sessions: int  # completed sessions before this one
    days_since_last_session: float  # inf for the first session
    spend: float
    session_views: int
    cart_items: int
    cart_value: float


class Truth:
    """Coefficients of the utility, one row per content id in `vocab` order."""

    def __init__(self, rng: np.random.Generator, vocab: tuple[str, ...] = CONTENT_VOCAB) -> None:
        n = len(vocab)
        self.category = np.array([CATEGORIES.index(c.split("-")[0]) for c in vocab])
        self.base = rng.normal(0, 0.4, n)
        self.region = rng.normal(0, 0.6, (n, len(REGIONS)))
        self.device = rng.normal(0, 0.3, (n, len(DEVICES)))
        self.placement = rng.normal(0, 0.5, (n, len(PLACEMENTS)))
        self.time_of_day = rng.normal(0, 0.7, (n, 4))
        self.cart = rng.normal(0, 1.0, n)
        self.cart_value = rng.normal(0, 0.5, n)
        self.lapsed = rng.normal(0, 0.8, n)
        self.frequency = rng.normal(0, 0.4, n)
        self.monetary = rng.normal(0, 0.4, n)
        self.session = rng.normal(0, 0.4, n)

    def utility(self, s: State) -> np.ndarray:
        u: np.ndarray = self.base + TASTE_WEIGHT * s.taste[self.category] + HABIT_WEIGHT * np.log1p(s.clicks)
        u += self.region[:, s.region] + self.device[:, s.device] + self.placement[:, s.placement]
        u += self.time_of_day[:, s.hour // 6]
        if s.cart_items:
            u += self.cart + self.cart_value * (math.log1p(s.cart_value) / 5.0)
        if s.days_since_last_session > LAPSED_DAYS:
            u += self.lapsed
        u += self.frequency * math.log1p(s.sessions) + self.monetary * (math.log1p(s.spend) / 3.0)
        u += self.session * (min(s.session_views, 5) / 5.0)
        return u


def choose(utility: np.ndarray, eligible: np.ndarray, rng: np.random.Generator) -> tuple[int, tuple[int, ...], float]:
    """Sample the chosen index among `eligible` indices; also the true top 3 and p(chosen)."""
    u = utility[eligible]
    p = np.exp(u - u.max())
    p /= p.sum()
    pick = int(np.argmax(u + rng.gumbel(size=len(u))))
    order = np.argsort(-u, kind="stable")[:3]
    return int(eligible[pick]), tuple(int(eligible[i]) for i in order), float(p[pick])
