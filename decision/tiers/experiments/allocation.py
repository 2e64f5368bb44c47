"""Bandit allocation: each segment's arm statistics turned into the probability vector its decisions draw from.

The probability vector is computed when the statistics change (a state refresh), never per
decision; a decision only bisects its cumulative sums with a uniform number the caller
derives from the unit id. So the probability of the chosen arm is known exactly and goes
into the decision log, which is what lets any other policy be evaluated off-policy later.

Every mode is a pure function of the statistics: Thompson sampling draws from a generator
seeded afresh on each call, so every serving process that holds the same statistics
publishes the same probabilities. Imported on the serving hot path: stdlib and numpy only.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np

DEFAULT_FLOOR = 0.01
DEFAULT_WARMUP = 100
#: Monte Carlo draws behind a Thompson probability: its standard error is at most 0.005.
DEFAULT_DRAWS = 10_000


class ArmStats(NamedTuple):
    """What one arm has seen in one segment. Immutable, so a published snapshot never changes under a reader."""

    exposures: int = 0
    successes: int = 0
    reward_sum: float = 0.0
    reward_sq_sum: float = 0.0

    def observe(self, exposures: int, successes: int, reward_sum: float, reward_sq_sum: float) -> ArmStats:
        """These statistics plus a batch of new observations."""
        return ArmStats(
            self.exposures + exposures,
            self.successes + successes,
            self.reward_sum + reward_sum,
            self.reward_sq_sum + reward_sq_sum,
        )

    @property
    def mean_reward(self) -> float:
        """Average reward per exposure (0.0 before the first exposure)."""
        return self.reward_sum / self.exposures if self.exposures else 0.0


class ArmProbabilities(NamedTuple):
    """One segment's probability vector over arms and its cumulative sums (the last is exactly 1.0)."""

    probabilities: tuple[float, ...]
    cumulative: tuple[float, ...]

    @classmethod
    def of(cls, probabilities: Sequence[float]) -> ArmProbabilities:
        """Validate and renormalize (float sums drift); refuses negatives, NaN and an all-zero vector."""
        values = [float(p) for p in probabilities]
        if not values or any(not p >= 0.0 or math.isinf(p) for p in values) or sum(values) <= 0.0:
            raise ValueError(f"arm probabilities must be finite, >= 0 and not all zero, got {values}")
        total = math.fsum(values)
        normalized = tuple(p / total for p in values)
        cumulative = [*np.cumsum(normalized).tolist()]
        cumulative[-1] = 1.0  # so every uniform number in [0, 1) lands on an arm
        return cls(normalized, tuple(cumulative))

    def choose(self, uniform: float) -> int:
        """The arm index for a uniform number in [0, 1): arm i owns [cumulative[i-1], cumulative[i])."""
        return bisect.bisect_right(self.cumulative, uniform)


class AllocationMode(Protocol):
    """How a mode prefers arms once every arm is warm; the result is a probability vector before floors."""

    def preferences(self, stats: Sequence[ArmStats], weights: Sequence[float]) -> Sequence[float]: ...


@dataclass(frozen=True)
class FixedWeights:
    """A/B(/n) test: the declared weights, whatever the statistics say."""

    def preferences(self, stats: Sequence[ArmStats], weights: Sequence[float]) -> Sequence[float]:
        return weights


@dataclass(frozen=True)
class EpsilonGreedy:
    """`epsilon` spread evenly over the arms, the rest on the best mean reward (split between ties)."""

    epsilon: float = 0.1

    def __post_init__(self) -> None:
        if not 0.0 <= self.epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {self.epsilon}")

    def preferences(self, stats: Sequence[ArmStats], weights: Sequence[float]) -> Sequence[float]:
        greedy = _best(np.array([s.mean_reward for s in stats]))
        mixed: list[float] = (self.epsilon / len(stats) + (1.0 - self.epsilon) * greedy).tolist()
        return mixed


@dataclass(frozen=True)
class Ucb1:
    """UCB1 (Auer et al. 2002) for rewards in [0, 1]: all mass on the highest upper bound (split between ties).

    Deterministic by nature; the allocation's floor is what keeps it a logged probability vector.
    """

    def preferences(self, stats: Sequence[ArmStats], weights: Sequence[float]) -> Sequence[float]:
        exposures = np.array([s.exposures for s in stats], dtype=np.float64)
        means = np.array([s.mean_reward for s in stats])
        log_total = math.log(max(exposures.sum(), 1.0))
        bonus = np.sqrt(2.0 * log_total / np.maximum(exposures, 1.0))
        upper = np.where(exposures > 0, means + bonus, math.inf)  # an arm never shown goes first
        best: list[float] = _best(upper).tolist()
        return best


@dataclass(frozen=True)
class BetaThompson:
    """Thompson sampling for clicks/conversions: P(arm's Beta posterior draw is the largest), by Monte Carlo.

    Successes are counted against exposures, so `ArmStats.successes` must count at most one per exposure.
    """

    prior_successes: float = 1.0
    prior_failures: float = 1.0
    draws: int = DEFAULT_DRAWS
    seed: int = 0

    def preferences(self, stats: Sequence[ArmStats], weights: Sequence[float]) -> Sequence[float]:
        successes = np.array([s.successes for s in stats], dtype=np.float64)
        failures = np.array([s.exposures - s.successes for s in stats], dtype=np.float64)
        if (failures < 0).any():
            raise ValueError("an arm has more successes than exposures")
        generator = np.random.default_rng(self.seed)
        draws = generator.beta(
            self.prior_successes + successes, self.prior_failures + failures, size=(self.draws, len(stats))
        )
        return _share_of_wins(draws)


@dataclass(frozen=True)
class GaussianThompson:
    """Thompson sampling for a real-valued reward (revenue): each arm's mean ~ Normal(mean, variance / n).

    The variance is the arm's sample variance; an arm with fewer than two exposures borrows
    the pooled variance of all arms (1.0 if there is none), so it stays wide, not certain.
    """

    draws: int = DEFAULT_DRAWS
    seed: int = 0

    def preferences(self, stats: Sequence[ArmStats], weights: Sequence[float]) -> Sequence[float]:
        n = np.array([s.exposures for s in stats], dtype=np.float64)
        sums = np.array([s.reward_sum for s in stats])
        squares = np.array([s.reward_sq_sum for s in stats])
        pooled_n = n.sum()
        pooled_variance = 1.0
        if pooled_n >= 2:
            pooled_variance = max((squares.sum() - sums.sum() ** 2 / pooled_n) / (pooled_n - 1), 0.0) or 1.0
        safe_n = np.maximum(n, 1.0)
        means = np.where(n > 0, sums / safe_n, sums.sum() / max(pooled_n, 1.0))
        sample_variance = np.maximum(squares - sums**2 / safe_n, 0.0) / np.maximum(n - 1.0, 1.0)
        variance = np.where(n >= 2, sample_variance, pooled_variance)
        generator = np.random.default_rng(self.seed)
        draws = generator.normal(means, np.sqrt(variance / safe_n), size=(self.draws, len(stats)))
        return _share_of_wins(draws)


@dataclass(frozen=True)
class Allocation:
    """A mode with its guard rails: declared weights until every arm is warm, and a floor for every arm.

    Arms the mode puts below `floor` are lifted to it and the others scaled down in proportion,
    so every arm keeps at least `floor` (off-policy evaluation needs every arm logged), a
    deterministic mode's best arm gets 1 - (arms - 1) * floor, and declared weights already
    above the floor are published unchanged.
    """

    mode: AllocationMode
    weights: tuple[float, ...]
    floor: float = DEFAULT_FLOOR
    warmup: int = DEFAULT_WARMUP

    def __post_init__(self) -> None:
        ArmProbabilities.of(self.weights)
        if not 0.0 <= self.floor * len(self.weights) <= 1.0:
            raise ValueError(f"floor {self.floor} x {len(self.weights)} arms must be in [0, 1]")
        if self.warmup < 0:
            raise ValueError(f"warmup must be >= 0 exposures, got {self.warmup}")

    @classmethod
    def equal(
        cls, mode: AllocationMode, arms: int, floor: float = DEFAULT_FLOOR, warmup: int = DEFAULT_WARMUP
    ) -> Allocation:
        """Declared weights split evenly between `arms` arms."""
        return cls(mode, (1.0 / arms,) * arms, floor, warmup)

    def probabilities(self, stats: Sequence[ArmStats]) -> ArmProbabilities:
        """The vector to publish for one segment, given its arms' statistics (in the weights' order)."""
        if len(stats) != len(self.weights):
            raise ValueError(f"got statistics for {len(stats)} arms, the allocation declares {len(self.weights)}")
        declared = ArmProbabilities.of(self.weights).probabilities
        warm = all(s.exposures >= self.warmup for s in stats)
        preferred = ArmProbabilities.of(self.mode.preferences(stats, declared)).probabilities if warm else declared
        return ArmProbabilities.of(_with_floor(preferred, self.floor))

    def by_segment(self, stats: Mapping[str, Sequence[ArmStats]]) -> dict[str, ArmProbabilities]:
        """`probabilities` for each segment's statistics."""
        return {segment: self.probabilities(arm_stats) for segment, arm_stats in stats.items()}


def _with_floor(probabilities: Sequence[float], floor: float) -> list[float]:
    """Lift arms below `floor` to it and scale the others to keep the sum at 1 (repeat: scaling may sink one)."""
    lifted = [p < floor for p in probabilities]
    while not all(lifted):  # all lifted only when arms * floor rounds to 1: then it is the uniform vector
        rest = math.fsum(p for p, low in zip(probabilities, lifted, strict=True) if not low)
        scale = (1.0 - floor * sum(lifted)) / rest
        floored = [floor if low else p * scale for p, low in zip(probabilities, lifted, strict=True)]
        sinking = [not low and p < floor for p, low in zip(floored, lifted, strict=True)]
        if not any(sinking):
            return floored
        lifted = [low or sink for low, sink in zip(lifted, sinking, strict=True)]
    return [1.0 / len(lifted)] * len(lifted)


def _best(values: np.ndarray) -> np.ndarray:
    """One-hot on the largest value, split evenly between exact ties."""
    top = values == values.max()
    best: np.ndarray = top / top.sum()
    return best


def _share_of_wins(draws: np.ndarray) -> list[float]:
    """Share of rows (posterior draws) in which each column is the largest."""
    wins = np.bincount(np.argmax(draws, axis=1), minlength=draws.shape[1])
    shares: list[float] = (wins / draws.shape[0]).tolist()
    return shares
