"""Adjusting p-values for the family of comparisons (segments × arms): Holm, Benjamini-Hochberg, Bonferroni."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from statsmodels.stats.multitest import multipletests

FloatArray = npt.NDArray[np.float64]

# Our names -> statsmodels' method names. Holm controls the family-wise error and is never
# worse than Bonferroni; BH controls the false discovery rate (more power with many segments).
CORRECTIONS = {"holm": "holm", "bh": "fdr_bh", "bonferroni": "bonferroni", "none": ""}


def check_correction(correction: str) -> None:
    if correction not in CORRECTIONS:
        raise ValueError(f"unknown correction {correction!r}; choose one of {', '.join(CORRECTIONS)}")


def adjust_p_values(p_values: Sequence[float] | FloatArray, correction: str) -> FloatArray:
    """Adjusted p-values in input order; NaN entries (comparisons that could not be made) stay NaN
    and do not count towards the family."""
    check_correction(correction)
    values = np.asarray(p_values, dtype=np.float64)
    adjusted = values.copy()
    present = ~np.isnan(values)
    if correction == "none" or not present.any():
        return adjusted
    _, corrected, _, _ = multipletests(values[present], method=CORRECTIONS[correction])
    adjusted[present] = corrected
    return adjusted
