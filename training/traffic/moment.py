"""The moment of a simulated decision: placement, time, channel, session depth and cart.

Traffic mix (documented defaults, not measured anywhere): PLACEMENT_SHARES of the
decisions per placement; the hour of day weighted like the generator's sessions, the
day uniform over `days` days from the start; the channel as the generator picks it
(email for the email placement, the app more often on mobile). The cart page always has a
cart; elsewhere CART_SHARE of the decisions carry one (1 + Poisson(1) items, at most
MAX_CART_ITEMS, priced like the generator's, last changed an exponential
CART_IDLE_MEAN_MINUTES ago), so the shipped cart reminder rules fire on part of the traffic.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from training.generate import HOUR_WEIGHTS
from training.traffic.population import PRICE_LOG_MEAN, PRICE_LOG_SD, SimUser

PLACEMENT_SHARES = {"home_banner": 0.45, "product_page": 0.30, "cart_page": 0.10, "email": 0.15}
CART_SHARE = 0.15
CART_IDLE_MEAN_MINUTES = 180.0
MAX_CART_ITEMS = 8
TRAFFIC_STREAM = 1
_PLACEMENTS = tuple(PLACEMENT_SHARES)
_PLACEMENT_P = tuple(PLACEMENT_SHARES.values())
_IN_SESSION = ("product_page", "cart_page")  # placements seen after product views in the visit
_HOUR_P = np.asarray(HOUR_WEIGHTS, dtype=np.float64) / sum(HOUR_WEIGHTS)
_APP_SHARE = {"mobile": 0.35, "desktop": 0.1, "tablet": 0.1}  # of non-email visits (generator: app 0.35 vs 0.1)
_EMAIL_SHARE = 0.15


@dataclass(frozen=True)
class Moment:
    """What the truth needs to know about a decision besides the user."""

    placement: str
    at: datetime  # the client's clock (timezone-aware)
    channel: str = "web"
    session_views: int = 0  # product views earlier in this visit
    cart_items: int = 0
    cart_value: float = 0.0
    cart_idle_minutes: float | None = None  # None: unknown (or no cart)


class MomentStream:
    """The run's questions in order: which user, at which moment. Depends only on the seed and the users.

    Drawn in blocks of BLOCK decisions (vectorized), so the sequence does not depend on the
    batch size either: two runs with one seed ask the same questions whatever the server answers.
    """

    BLOCK = 1024

    def __init__(self, people: Sequence[SimUser], seed: int, start: datetime, days: float) -> None:
        self._people, self._start, self._days = people, start, days
        self._rng = np.random.default_rng([seed, TRAFFIC_STREAM])
        self._pending: deque[tuple[SimUser, Moment]] = deque()

    def take(self, n: int) -> list[tuple[SimUser, Moment]]:
        while len(self._pending) < n:
            self._pending.extend(self._block())
        return [self._pending.popleft() for _ in range(n)]

    def _block(self) -> list[tuple[SimUser, Moment]]:
        rng, n = self._rng, self.BLOCK
        who = rng.integers(len(self._people), size=n)
        placement = rng.choice(len(_PLACEMENTS), n, p=_PLACEMENT_P)
        offset = (
            np.floor(rng.random(n) * self._days) * 86400 + rng.choice(24, n, p=_HOUR_P) * 3600 + rng.random(n) * 3600
        )
        channel_u, views, cart_u = rng.random(n), 1 + rng.poisson(1.5, n), rng.random(n)
        items = np.minimum(1 + rng.poisson(1.0, n), MAX_CART_ITEMS)
        prices = rng.lognormal(PRICE_LOG_MEAN, PRICE_LOG_SD, (n, MAX_CART_ITEMS))
        value = np.where(np.arange(MAX_CART_ITEMS) < items[:, None], prices, 0.0).sum(axis=1).round(2)
        idle = (rng.exponential(CART_IDLE_MEAN_MINUTES, n)).round(1)
        block = []
        for i in range(n):
            user, where = self._people[who[i]], _PLACEMENTS[placement[i]]
            cart = where == "cart_page" or cart_u[i] < CART_SHARE
            moment = Moment(
                placement=where,
                at=self._start + timedelta(seconds=float(offset[i])),
                channel=_channel(where, user.device, float(channel_u[i])),
                session_views=int(views[i]) if where in _IN_SESSION else 0,
                cart_items=int(items[i]) if cart else 0,
                cart_value=float(value[i]) if cart else 0.0,
                cart_idle_minutes=float(idle[i]) if cart else None,
            )
            block.append((user, moment))
        return block


def _channel(placement: str, device: str, u: float) -> str:
    if placement == "email":
        return "email"
    app = _APP_SHARE.get(device, 0.1) / (1 - _EMAIL_SHARE)
    return "app" if u < app else "web"
