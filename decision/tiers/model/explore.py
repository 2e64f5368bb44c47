"""Exploration on the model tier: sometimes show something other than the model's best, on purpose.

A model that always shows its top item logs every decision with probability 1, and no other
policy (a challenger, a new feature set) can then be evaluated on its traffic: off-policy
estimators need each action the candidate would take to have had a chance under the logging
policy. Per placement, the model tier may therefore fill each slot of its answer

- `epsilon:E` — with probability 1-E the best remaining item, otherwise one of the remaining
  eligible items uniformly (the best included);
- `softmax:T` — an item drawn with probability proportional to exp(score / T) among the
  remaining ones (Plackett-Luce; T in the units of the model's scores, smaller = greedier).

Every shown item carries the probability with which it was chosen for its slot given the
slots above it; for the first slot that is the probability the logging policy gave it, which
is what `training ope` reads as the propensity.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Kind = Literal["epsilon", "softmax"]
KINDS: tuple[Kind, ...] = ("epsilon", "softmax")
#: Chosen item: content id, model score, probability of having been chosen for its slot.
Choice = tuple[str, float, float]


@dataclass(frozen=True)
class Exploration:
    """How one placement explores; `rate` is epsilon in (0, 1] or the softmax temperature (> 0)."""

    kind: Kind
    rate: float

    @classmethod
    def parse(cls, text: str, where: str) -> Exploration:
        """`epsilon:0.05` or `softmax:0.1`; the error names `where` (setting and placement) and the fix."""
        kind, _, value = text.partition(":")
        try:
            rate = float(value)
        except ValueError:
            rate = math.nan
        if kind not in KINDS or not math.isfinite(rate):
            raise ValueError(f"{where}: {text!r} is not an exploration; use epsilon:<0..1> or softmax:<temperature>")
        if kind == "epsilon" and not 0.0 < rate <= 1.0:
            raise ValueError(f"{where}: epsilon must be in (0, 1], got {rate}")
        if kind == "softmax" and rate <= 0.0:
            raise ValueError(f"{where}: the softmax temperature must be > 0, got {rate}")
        return cls(kind, rate)

    def __str__(self) -> str:
        return f"{self.kind}:{self.rate:g}"

    def choose(self, ranked: Sequence[tuple[str, float]], k: int, rng: random.Random) -> list[Choice]:
        """Up to k items from `ranked` (every eligible item, best first), each with its slot probability."""
        if self.kind == "epsilon":
            return _epsilon(ranked, k, self.rate, rng)
        return _softmax(ranked, k, self.rate, rng)


def _epsilon(ranked: Sequence[tuple[str, float]], k: int, epsilon: float, rng: random.Random) -> list[Choice]:
    remaining = list(ranked)
    chosen: list[Choice] = []
    while remaining and len(chosen) < k:
        n = len(remaining)
        at = rng.randrange(n) if rng.random() < epsilon else 0
        probability = epsilon / n + (1.0 - epsilon if at == 0 else 0.0)
        content_id, score = remaining.pop(at)
        chosen.append((content_id, score, probability))
    return chosen


def _softmax(ranked: Sequence[tuple[str, float]], k: int, temperature: float, rng: random.Random) -> list[Choice]:
    scores = np.fromiter((score for _, score in ranked), dtype=np.float64, count=len(ranked))
    alive = np.ones(len(scores), dtype=bool)
    chosen: list[Choice] = []
    while len(chosen) < min(k, len(ranked)):
        # Relative to the best remaining score, which then weighs 1: no overflow, and never all zero.
        weights = np.zeros(len(scores))
        weights[alive] = np.exp((scores[alive] - scores[alive].max()) / temperature)
        cumulative = np.cumsum(weights)
        at = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
        at = min(at, len(weights) - 1)
        while weights[at] == 0.0:  # past the end by rounding, or onto an item already shown
            at -= 1
        content_id, score = ranked[at]
        chosen.append((content_id, score, float(weights[at] / cumulative[-1])))
        alive[at] = False
    return chosen


def explorations(per_placement: Mapping[str, str], setting: str) -> dict[str, Exploration]:
    """Every placement's exploration, parsed; an error names the setting and the placement."""
    return {
        placement: Exploration.parse(text, f"{setting}[{placement!r}]") for placement, text in per_placement.items()
    }
