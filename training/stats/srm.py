"""Sample-ratio mismatch: are the arms' exposures consistent with the weights the experiment declared?

A mismatch means assignment or logging is broken (bots, redirects, a crashing arm), so every
other figure of the experiment is suspect; hence the strict threshold (p < 0.001).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats

SRM_THRESHOLD = 0.001


@dataclass(frozen=True)
class SampleRatioCheck:
    observed: dict[str, int]
    expected: dict[str, float]
    statistic: float
    p_value: float
    mismatch: bool


def check_sample_ratio(
    observed: Mapping[str, int], weights: Mapping[str, float], threshold: float = SRM_THRESHOLD
) -> SampleRatioCheck:
    """Chi-square goodness of fit of exposures per arm against the declared weights (normalised to 1).

    Arms with weight but no exposures count as 0 (a dead arm is the clearest mismatch).
    """
    unknown = sorted(set(observed) - set(weights))
    if unknown:
        raise ValueError(f"arms {unknown} have exposures but no declared weight; add them to the weights")
    if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ValueError(f"weights must be non-negative with a positive sum, got {dict(weights)}")
    arms = [arm for arm in weights if weights[arm] > 0]
    counts = np.array([observed.get(arm, 0) for arm in arms], dtype=np.float64)
    total_weight = sum(weights[arm] for arm in arms)
    expected = counts.sum() * np.array([weights[arm] / total_weight for arm in arms])
    if any(observed.get(arm, 0) > 0 for arm in weights if weights[arm] == 0):
        statistic, p_value = float("inf"), 0.0  # exposures in an arm declared off: no test needed
    elif counts.sum() == 0 or len(arms) < 2:
        statistic, p_value = 0.0, 1.0
    else:
        result = stats.chisquare(counts, expected)
        statistic, p_value = float(result.statistic), float(result.pvalue)
    return SampleRatioCheck(
        observed={arm: int(c) for arm, c in zip(arms, counts, strict=True)},
        expected={arm: float(e) for arm, e in zip(arms, expected, strict=True)},
        statistic=statistic,
        p_value=p_value,
        mismatch=p_value < threshold,
    )
