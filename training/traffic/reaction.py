"""How a simulated user reacts to one decision's items: clicks, a conversion, its order value.

Random numbers are drawn so that two runs with the same seed against different servers
(or policies) use the same numbers for the same decision (common random numbers): every
decision takes exactly `slots + 1` uniforms from the reaction stream whatever was shown
or clicked, and an order value comes from its own stream keyed by the decision's index.
A user clicks each item independently with its true probability and converts on the first
clicked item with P(conversion | click).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from training.traffic.population import order_value

REACTION_STREAM = 2
ORDER_VALUE_STREAM = 3


@dataclass(frozen=True)
class Reaction:
    clicked: tuple[bool, ...]  # per shown item, in rank order
    converted_rank: int | None  # 1-based rank of the item that led to a purchase
    value: float  # order value; 0 without a conversion


class Reactions:
    """Samples reactions for the decisions of one run, in order; `slots` is the most items a decision shows."""

    def __init__(self, seed: int, slots: int) -> None:
        if slots < 1:
            raise ValueError(f"slots {slots}: a decision shows at least one item")
        self._seed = seed
        self._slots = slots
        self._rng = np.random.default_rng([seed, REACTION_STREAM])

    def react(self, index: int, click_p: Sequence[float], conversion_p: float) -> Reaction:
        """The reaction to decision number `index` whose items have true click probabilities `click_p`."""
        if len(click_p) > self._slots:
            raise ValueError(f"{len(click_p)} items shown, more than the {self._slots} slots this run draws for")
        u = self._rng.random(self._slots + 1)
        clicked = tuple(bool(u[i] < p) for i, p in enumerate(click_p))
        if True not in clicked or u[-1] >= conversion_p:
            return Reaction(clicked, None, 0.0)
        value = order_value(np.random.default_rng([self._seed, ORDER_VALUE_STREAM, index]))
        return Reaction(clicked, clicked.index(True) + 1, value)
