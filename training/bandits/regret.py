"""Cumulative regret of the serving allocation modes on simulated per-segment Bernoulli arms.

Decisions arrive one at a time, each from a segment; the arm comes from the segment's
published probability vector through `ArmProbabilities.choose`, exactly as serving draws
it, and the statistics are folded in and the vectors recomputed every `refresh`
decisions, as the service's state update does. The allocation classes are the serving
ones (decision.tiers.experiments.allocation). Every mode sees the same segments and the
same random numbers (common random numbers), so differences are the modes', not luck's.

Regret is the expected (pseudo-) regret: the best arm's rate in the segment minus the
chosen arm's rate, summed over decisions. It has no reward noise, only the noise of the
choices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from decision.tiers.experiments.allocation import (
    DEFAULT_FLOOR,
    DEFAULT_WARMUP,
    Allocation,
    AllocationMode,
    ArmStats,
    BetaThompson,
    EpsilonGreedy,
    FixedWeights,
    Ucb1,
)

#: Four segments, 3-5 arms, click rates 2-12 %, a different best arm in each.
DEFAULT_ARM_RATES: dict[str, tuple[float, ...]] = {
    "new": (0.020, 0.035, 0.050),
    "casual": (0.060, 0.040, 0.030, 0.045),
    "loyal": (0.080, 0.120, 0.100, 0.070, 0.090),
    "lapsed": (0.030, 0.020, 0.025, 0.040),
}
FIXED_SPLIT = "fixed equal split"


def default_modes() -> dict[str, AllocationMode]:
    """The modes compared by default, with their serving defaults."""
    return {
        "Thompson (Beta)": BetaThompson(),
        "UCB1": Ucb1(),
        "epsilon-greedy 0.1": EpsilonGreedy(0.1),
        FIXED_SPLIT: FixedWeights(),
    }


@dataclass(frozen=True)
class RegretRun:
    """Cumulative regret of each mode after each refresh, and where each mode ended up."""

    arm_rates: dict[str, tuple[float, ...]]
    decisions: int
    refresh: int
    seed: int
    cumulative: pd.DataFrame  # index: decisions so far (at each refresh); one column per mode
    clicks: dict[str, int]  # mode -> realized clicks
    final_probabilities: dict[str, dict[str, tuple[float, ...]]]  # mode -> segment -> published vector

    def final_regret(self, mode: str) -> float:
        return float(self.cumulative[mode].iloc[-1])

    def frame(self) -> pd.DataFrame:
        """mode, cumulative regret, regret per 1,000 decisions, share of the fixed split's, clicks, best-arm share."""
        best = {segment: int(np.argmax(rates)) for segment, rates in self.arm_rates.items()}
        fixed = self.final_regret(FIXED_SPLIT) if FIXED_SPLIT in self.cumulative else float("nan")
        rows = []
        for mode in self.cumulative.columns:
            final = self.final_regret(mode)
            vectors = self.final_probabilities[mode]
            rows.append(
                {
                    "mode": mode,
                    "cumulative regret": final,
                    "per 1,000 decisions": 1_000 * final / self.decisions,
                    "of fixed split": final / fixed,
                    "clicks": self.clicks[mode],
                    "final best-arm share": float(np.mean([vectors[s][best[s]] for s in self.arm_rates])),
                }
            )
        return pd.DataFrame(rows)


def simulate_regret(
    arm_rates: Mapping[str, Sequence[float]] = DEFAULT_ARM_RATES,
    modes: Mapping[str, AllocationMode] | None = None,
    decisions: int = 100_000,
    refresh: int = 500,
    seed: int = 0,
    floor: float = DEFAULT_FLOOR,
    warmup: int = DEFAULT_WARMUP,
) -> RegretRun:
    """Run every mode over the same `decisions` (segments equally likely), refreshing every `refresh` decisions."""
    if refresh < 1 or decisions < refresh:
        raise ValueError(f"need 1 <= refresh ({refresh}) <= decisions ({decisions})")
    rates = {segment: np.asarray(r, dtype=np.float64) for segment, r in arm_rates.items()}
    segments = list(rates)
    rng = np.random.default_rng(seed)
    segment_of = rng.integers(0, len(segments), decisions)
    choice_uniform = rng.random(decisions)
    click_uniform = rng.random(decisions)
    chosen_modes = default_modes() if modes is None else dict(modes)
    curves, clicks, finals = {}, {}, {}
    for name, mode in chosen_modes.items():
        allocations = {s: Allocation.equal(mode, len(rates[s]), floor, warmup) for s in segments}
        stats = {s: [ArmStats()] * len(rates[s]) for s in segments}
        published = {s: allocations[s].probabilities(stats[s]) for s in segments}
        regret = np.empty(decisions)
        total_clicks = 0
        for start in range(0, decisions, refresh):
            batch = slice(start, min(start + refresh, decisions))
            tables = [published[s] for s in segments]
            arms = np.array(
                [tables[g].choose(u) for g, u in zip(segment_of[batch], choice_uniform[batch], strict=True)]
            )
            for index, segment in enumerate(segments):
                mine = segment_of[batch] == index
                arm_rates_here = rates[segment][arms[mine]]
                regret[batch][mine] = rates[segment].max() - arm_rates_here
                clicked = click_uniform[batch][mine] < arm_rates_here
                total_clicks += int(clicked.sum())
                stats[segment] = _folded(stats[segment], arms[mine], clicked)
                published[segment] = allocations[segment].probabilities(stats[segment])
        curves[name] = np.cumsum(regret)
        clicks[name] = total_clicks
        finals[name] = {s: published[s].probabilities for s in segments}
    ends = np.minimum(np.arange(refresh, decisions + refresh, refresh), decisions)
    cumulative = pd.DataFrame(
        {name: curve[ends - 1] for name, curve in curves.items()}, index=pd.Index(ends, name="decisions")
    )
    return RegretRun(
        {s: tuple(map(float, r)) for s, r in rates.items()}, decisions, refresh, seed, cumulative, clicks, finals
    )


def _folded(stats: list[ArmStats], arms: np.ndarray, clicked: np.ndarray) -> list[ArmStats]:
    """A batch's exposures and clicks added to each arm's statistics (a click is a reward of 1)."""
    exposures = np.bincount(arms, minlength=len(stats))
    successes = np.bincount(arms, weights=clicked, minlength=len(stats)).astype(np.int64)
    return [s.observe(int(n), int(k), float(k), float(k)) for s, n, k in zip(stats, exposures, successes, strict=True)]
