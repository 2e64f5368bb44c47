"""Bootstrap of column sums that resamples distinct rows, so a million decisions resample in about a second.

Logged decisions repeat: with categorical contexts, a binary reward and a reward model
fitted per fold, the per-decision terms take a few thousand distinct values. In the
Poisson bootstrap each decision enters a replicate Poisson(1) times (Hanley & MacGibbon
2006; Chamandy et al. 2012, "Estimating uncertainty for massive data streams"), which for
large n matches the classical bootstrap; m identical rows together enter Poisson(m) times
(a sum of m Poisson(1)), so resampling the distinct rows with their counts is the same
bootstrap at a cost that grows with the distinct rows, not with n.

When most rows are distinct (real-valued rewards, per-decision probabilities), a Poisson
draw per row per replicate is the slow part (about 65 ns each here); the classical
multinomial bootstrap, n indices per replicate counted with `bincount`, costs about a
third of that, so it is used instead when more than a quarter of the rows are distinct.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

#: Replicates asked for: the 2.5 % and 97.5 % percentiles then rest on 25 replicates beyond each.
DEFAULT_REPLICATES = 1_000
#: Random draws allowed (replicates x rows resampled), a few seconds here; above it, fewer replicates.
MAX_DRAWS = 30_000_000
#: Never fewer replicates than this, even with a million distinct rows (percentiles then rest on 5).
MIN_REPLICATES = 200
#: Above this share of distinct rows, the multinomial bootstrap over rows replaces the Poisson one over groups.
MULTINOMIAL_ABOVE = 0.25
_CHUNK_DRAWS = 4_000_000  # draws held in memory at once (32 MB as int64)


class BootstrapSums(NamedTuple):
    """Column sums of each replicate (replicates x columns)."""

    sums: np.ndarray
    distinct_rows: int
    method: str  # "poisson" (over distinct rows) or "multinomial" (over all rows)

    @property
    def replicates(self) -> int:
        return int(self.sums.shape[0])


def replicate_count(distinct_rows: int, wanted: int = DEFAULT_REPLICATES, max_draws: int = MAX_DRAWS) -> int:
    """`wanted`, reduced when replicates x distinct rows would exceed `max_draws` (but not below MIN_REPLICATES)."""
    return min(wanted, max(MIN_REPLICATES, max_draws // max(distinct_rows, 1)))


def bootstrap_sums(
    columns: np.ndarray, seed: int, wanted: int = DEFAULT_REPLICATES, max_draws: int = MAX_DRAWS
) -> BootstrapSums:
    """Bootstrap sums of each column of `columns` (decisions x columns), reproducible for a given seed."""
    distinct, counts = _distinct_rows(columns)
    generator = np.random.default_rng(seed)
    if len(distinct) > MULTINOMIAL_ABOVE * len(columns):
        replicates = replicate_count(len(columns), wanted, max_draws)
        sums = np.empty((replicates, columns.shape[1]))
        for replicate in range(replicates):
            picked = np.bincount(generator.integers(0, len(columns), len(columns)), minlength=len(columns))
            sums[replicate] = picked.astype(np.float64) @ columns
        return BootstrapSums(sums, len(distinct), "multinomial")
    replicates = replicate_count(len(distinct), wanted, max_draws)
    sums = np.zeros((replicates, columns.shape[1]))
    chunk = max(1, _CHUNK_DRAWS // replicates)
    for start in range(0, len(distinct), chunk):
        stop = start + chunk
        lam = counts[start:stop]
        # a scalar mean draws about twice as fast as an array of them, and distinct rows are often all single
        multiplicity = generator.poisson(1.0 if lam.max() == 1 else lam, size=(replicates, len(lam)))
        sums += multiplicity.astype(np.float64) @ distinct[start:stop]
    return BootstrapSums(sums, len(distinct), "poisson")


def percentile_interval(replicates: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The central `level` percentile interval of replicate estimates (NaN replicates ignored)."""
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.nanpercentile(replicates, [tail, 100.0 - tail])
    return float(low), float(high)


def _distinct_rows(columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a float matrix and how often each occurs (exact equality)."""
    frame = pd.DataFrame(columns)
    group = frame.groupby(list(frame.columns), sort=False, dropna=False).ngroup().to_numpy()
    counts = np.bincount(group)
    _, first = np.unique(group, return_index=True)
    return columns[first], counts
