"""The simulated users: drawn like the generator's (training/generate.py), as of the end of its log.

A user has what the generator gives one (region, device, lifecycle segment, taste over
categories) plus the history the ground truth reads (past clicks per content, sessions,
spend, last visit), drawn as the generator would have left it after its DAYS days: sessions
1 + Poisson(mean - 1) per segment, new users seen in the last 30 % of the days, lapsed
users only in the first half, about CLICKS_PER_SESSION clicks per session on content of
the categories the user likes, purchases with the segment's purchase probability.
Users do not change during a simulation, so the truth of a decision depends only on the
user and the moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from training.generate import DAYS, DEVICE_SHARES, REGION_SHARES, SEGMENTS, START
from training.truth import CATEGORIES, CONTENT_VOCAB, DEVICES, REGIONS

#: The first simulated moment by default: the day after the generated log ends.
SIMULATION_START = START + timedelta(days=DAYS)
DEFAULT_CONSENT_SHARE = 0.9
#: Tag of the users' random streams: seeds of the simulator's streams are [seed, tag, ...].
POPULATION_STREAM = 0
#: Catalog clicks per session in the generator: 0.6 home banner + 0.25 per product view
#: (about 4 views) + 0.5 on the cart page when a cart is left, plus email visits.
CLICKS_PER_SESSION = 2.0
#: Share of sessions that end with a full cart in the generator (about 1.2 items added).
FULL_CART_SHARE = 0.7
#: Order values: items per order 1 + Poisson(ORDER_EXTRA_ITEMS), each lognormal like the generator's prices.
ORDER_EXTRA_ITEMS = 1.0
PRICE_LOG_MEAN, PRICE_LOG_SD = 3.2, 0.6
_TASTE_CONCENTRATION = 0.3
#: Within a category, content 1..5 are clicked alike when drawing past clicks.
_ITEMS_PER_CATEGORY = len(CONTENT_VOCAB) // len(CATEGORIES)
#: Days within the log a segment's sessions fall in, as shares of DAYS (the generator's windows).
_ACTIVE_WINDOW = {"new": (0.7, 1.0), "lapsed": (0.0, 0.5)}


@dataclass(frozen=True, eq=False)
class SimUser:
    """One synthetic user: who they are and what they did before the simulation starts."""

    user_id: str  # pseudonymous, sent to the server; never written to a file by the simulator
    segment: str  # a key of training.generate.SEGMENTS
    region: str  # one of REGIONS
    device: str  # one of DEVICES
    consent: bool  # personalization consent
    taste: np.ndarray  # per category (CATEGORIES order), sums to 1
    clicks: np.ndarray  # past clicks per content (CONTENT_VOCAB order)
    sessions: int
    spend: float
    last_seen: datetime | None  # end of the last visit; None = never visited


def user_id(index: int) -> str:
    """The stable pseudonymous id of the index-th simulated user."""
    return f"sim-u{index:06d}"


def draw_population(
    n: int,
    seed: int,
    consent_share: float = DEFAULT_CONSENT_SHARE,
    start: datetime = SIMULATION_START,
) -> list[SimUser]:
    """`n` users drawn from `seed`; the same seed and n give the same users."""
    if n < 1:
        raise ValueError(f"need at least 1 user, got {n}")
    if not 0.0 <= consent_share <= 1.0:
        raise ValueError(f"consent share {consent_share} is not a share between 0 and 1")
    rng = np.random.default_rng([seed, POPULATION_STREAM])
    names = list(SEGMENTS)
    segment = rng.choice(len(names), n, p=[s[0] for s in SEGMENTS.values()])
    mean_sessions, purchase_p = (np.array([s[i] for s in SEGMENTS.values()])[segment] for i in (1, 2))
    window = np.array([_ACTIVE_WINDOW.get(name, (0.0, 1.0)) for name in names])[segment]
    taste = rng.dirichlet(np.full(len(CATEGORIES), _TASTE_CONCENTRATION), n)
    sessions = 1 + rng.poisson(mean_sessions - 1)
    # The latest of k uniform session days is distributed as U ** (1 / k).
    last_day = DAYS * (window[:, 0] + (window[:, 1] - window[:, 0]) * rng.random(n) ** (1 / sessions))
    spend = _spend(rng.binomial(sessions, FULL_CART_SHARE * purchase_p), rng)
    region = rng.choice(len(REGIONS), n, p=REGION_SHARES)
    device = rng.choice(len(DEVICES), n, p=DEVICE_SHARES)
    consent = rng.random(n) < consent_share
    clicks = _past_clicks(taste, sessions, rng)
    return [
        SimUser(
            user_id=user_id(i),
            segment=names[segment[i]],
            region=REGIONS[region[i]],
            device=DEVICES[device[i]],
            consent=bool(consent[i]),
            taste=taste[i],
            clicks=clicks[i],
            sessions=int(sessions[i]),
            spend=float(spend[i]),
            last_seen=start - timedelta(days=float(DAYS - last_day[i])),
        )
        for i in range(n)
    ]


def _past_clicks(taste: np.ndarray, sessions: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Clicks per user and content: categories as the taste says, the content within a category uniform."""
    per_category = rng.multinomial(rng.poisson(CLICKS_PER_SESSION * sessions), taste)
    per_content = rng.multinomial(per_category, np.full(_ITEMS_PER_CATEGORY, 1 / _ITEMS_PER_CATEGORY))
    return per_content.reshape(len(taste), -1).astype(np.float64)


def _spend(purchases: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per user the value of `purchases` orders, each of 1 + Poisson(ORDER_EXTRA_ITEMS) items."""
    items = purchases + rng.poisson(ORDER_EXTRA_ITEMS * purchases)
    prices = rng.lognormal(PRICE_LOG_MEAN, PRICE_LOG_SD, int(items.sum()))
    owner = np.repeat(np.arange(len(items)), items)
    return np.round(np.bincount(owner, weights=prices, minlength=len(items)), 2)


def order_value(rng: np.random.Generator) -> float:
    """One order's value: a few items, each priced like the generator's products."""
    items = 1 + int(rng.poisson(ORDER_EXTRA_ITEMS))
    return round(float(rng.lognormal(PRICE_LOG_MEAN, PRICE_LOG_SD, items).sum()), 2)
