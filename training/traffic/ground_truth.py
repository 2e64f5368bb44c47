"""The simulated users' true reaction to shown content: click probability, conversion, order value.

Pure functions of (user, content, moment, rank); no server needed, so regret and
calibration code can ask the truth of any content, shown or not.

Click at rank 1. The generator's utility u = Truth.utility(State(user, moment)) over the
n = 40 catalog contents (training/truth.py, coefficients from the world seed exactly as
`training generate --seed` draws them) says how much the user prefers each content. With

    z_c  = u_c - logsumexp(u) + log n          (0 = liked as much as the average content)
    P(click c at rank 1) = min(1, sigmoid(logit(b_s) + SLOPE * z_c) * L(c, s))

where b_s is the segment's click rate on average-liked content (SEGMENT_BASE_RATE) and
L(c, s) the planted lift (1 without one). With SLOPE = 0.5 a random content gets about
0.75 b_s and the user's favourite about 3 b_s: 2-4.5 % for random content and 8-17 % for
the best, by segment. Content the truth does not know (a rule's cart_reminder_premium, a
placement default's home_welcome) or a placement outside PLACEMENTS gets the segment's
fixed OTHER_CONTENT_RATE o_s (times L(c, s)).

Lower ranks: P(click c at rank k) = P(click c at rank 1) / log2(k + 1) (the user
examines rank k with probability 1 / log2(k + 1), as in DCG).

Conversion: P(conversion | click) = CART_SHARE * p_s, with p_s the generator's purchase
probability of a full cart for the segment (SEGMENTS) and CART_SHARE the generator's
add-to-cart probability per product view. The order value is population.order_value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime

import numpy as np
from scipy.special import expit, logit

from decision.sources.catalog import Catalog
from training import defaults
from training.generate import SEGMENTS, catalog
from training.traffic.lift import Lift, lift_table
from training.traffic.moment import Moment
from training.traffic.population import SimUser
from training.truth import CONTENT_VOCAB, DEVICES, PLACEMENTS, REGIONS, State, Truth

SEGMENT_BASE_RATE = {"new": 0.030, "casual": 0.035, "regular": 0.045, "loyal": 0.055, "lapsed": 0.025}
OTHER_CONTENT_RATE = {"new": 0.020, "casual": 0.022, "regular": 0.028, "loyal": 0.035, "lapsed": 0.015}
SLOPE = 0.5
CART_SHARE = 0.3
_LOG_N = math.log(len(CONTENT_VOCAB))
_INDEX = {content_id: i for i, content_id in enumerate(CONTENT_VOCAB)}


def position_discount(rank: int) -> float:
    """The chance a user examines rank `rank` (1-based)."""
    if rank < 1:
        raise ValueError(f"rank {rank}: ranks start at 1")
    return 1.0 / math.log2(rank + 1)


class GroundTruth:
    """The click and purchase behaviour of simulated users in the world of `world_seed`, with planted lifts."""

    def __init__(self, world_seed: int = defaults.SEED, lifts: Iterable[Lift] = ()) -> None:
        self.world_seed = world_seed
        self.truth = Truth(np.random.default_rng(world_seed + 1))
        self.catalog: Catalog = catalog(world_seed)
        table = lift_table(lifts)
        self._vocab_lift = {s: np.ones(len(CONTENT_VOCAB)) for s in SEGMENTS}
        self._other_lift: dict[tuple[str, str], float] = {}
        for (content_id, segment), multiplier in table.items():
            if content_id in _INDEX:
                self._vocab_lift[segment][_INDEX[content_id]] = multiplier
            else:
                self._other_lift[content_id, segment] = multiplier
        self._eligible: dict[frozenset[str], np.ndarray] = {}
        self._last: tuple[SimUser, Moment, np.ndarray] | None = None

    def state(self, user: SimUser, moment: Moment) -> State:
        """The generator's State for this user at this moment (the placement must be one the truth knows)."""
        gap = (moment.at - user.last_seen).total_seconds() / 86400 if user.last_seen else math.inf
        return State(
            user.taste,
            user.clicks,
            REGIONS.index(user.region),
            DEVICES.index(user.device),
            PLACEMENTS.index(moment.placement),
            moment.at.hour,
            user.sessions,
            gap,
            user.spend,
            moment.session_views,
            moment.cart_items,
            moment.cart_value,
        )

    def catalog_click_probabilities(self, user: SimUser, moment: Moment) -> np.ndarray:
        """P(click at rank 1) of every catalog content (CONTENT_VOCAB order), lifts included.

        The last answer is kept: a decision asks for its shown items and its best content in turn.
        """
        last = self._last
        if last is not None and last[0] is user and last[1] == moment:
            return last[2]
        if moment.placement in PLACEMENTS:
            u = self.truth.utility(self.state(user, moment))
            z = u - np.logaddexp.reduce(u) + _LOG_N
            p = expit(logit(SEGMENT_BASE_RATE[user.segment]) + SLOPE * z)
        else:
            p = np.full(len(CONTENT_VOCAB), OTHER_CONTENT_RATE[user.segment])
        lifted: np.ndarray = np.minimum(p * self._vocab_lift[user.segment], 1.0)
        lifted.flags.writeable = False
        self._last = (user, moment, lifted)
        return lifted

    def click_probability(self, user: SimUser, content_id: str, moment: Moment, rank: int = 1) -> float:
        """P(user clicks `content_id` shown at `rank` at this moment)."""
        index = _INDEX.get(content_id)
        if index is None or moment.placement not in PLACEMENTS:
            lift = self._other_lift.get((content_id, user.segment), 1.0)
            if index is not None:
                lift = float(self._vocab_lift[user.segment][index])
            p = min(1.0, OTHER_CONTENT_RATE[user.segment] * lift)
        else:
            p = float(self.catalog_click_probabilities(user, moment)[index])
        return p * position_discount(rank)

    def click_probabilities(self, user: SimUser, content_ids: Sequence[str], moment: Moment) -> tuple[float, ...]:
        """P(click) of each of a decision's items, `content_ids` in rank order."""
        return tuple(self.click_probability(user, c, moment, rank) for rank, c in enumerate(content_ids, start=1))

    def best(self, user: SimUser, moment: Moment, eligible_at: datetime | None = None) -> tuple[str | None, float]:
        """The catalog content with the highest P(click at rank 1) among those eligible, and that probability.

        Eligibility (placement, region, active window) is judged at `eligible_at`, by default
        the moment's time; a server judges it by its own clock. (None, 0.0) when nothing is eligible.
        """
        at = eligible_at if eligible_at is not None else moment.at
        eligible = self._eligible_indexes(moment.placement, user.region, at)
        if not len(eligible):
            return None, 0.0
        p = self.catalog_click_probabilities(user, moment)[eligible]
        best = int(np.argmax(p))
        return CONTENT_VOCAB[eligible[best]], float(p[best])

    @staticmethod
    def conversion_probability(user: SimUser) -> float:
        """P(conversion | click) for this user's segment."""
        return CART_SHARE * SEGMENTS[user.segment][2]

    def _eligible_indexes(self, placement: str, region: str, at: datetime) -> np.ndarray:
        allowed = self.catalog.eligible(placement, region, at)
        indexes = self._eligible.get(allowed)
        if indexes is None:
            indexes = self._eligible[allowed] = np.array(sorted(_INDEX[c] for c in allowed if c in _INDEX), dtype=int)
        return indexes
