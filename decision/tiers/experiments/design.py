"""Multivariate designs: the combinations of factor levels a factorial experiment assigns.

A full factorial assigns every combination; a half fraction (two-level factors only) is the
classic 2^(k-1) design with defining relation I = ±AB…K: with levels coded -1 (a factor's
first level) and +1 (its second), it keeps the combinations whose codes multiply to the
same sign as the all-first-levels combination, so the baseline is always among the arms.
Main effects stay estimable (aliased only with the highest-order interaction), at half the
arms.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence


class DesignError(ValueError):
    """A design that cannot be built from these factors (the message says why)."""


def combinations(factors: Mapping[str, Sequence[str]], design: str) -> list[dict[str, str]]:
    """Every assigned combination as {factor: level}, factors in file order."""
    names = list(factors)
    full = [dict(zip(names, levels, strict=True)) for levels in itertools.product(*factors.values())]
    if design == "full":
        return full
    if any(len(levels) != 2 for levels in factors.values()):
        raise DesignError("a half fraction needs exactly two levels per factor; use design: full")
    if len(names) < 3:
        raise DesignError("a half fraction of fewer than three factors confounds main effects; use design: full")
    baseline_sign = (-1) ** len(names)
    kept = []
    for combination in full:
        sign = 1
        for name in names:
            sign *= -1 if combination[name] == factors[name][0] else 1
        if sign == baseline_sign:
            kept.append(combination)
    return kept


def arm_id(combination: Mapping[str, str]) -> str:
    """A readable, stable arm id for a combination: `headline=short,image=lifestyle`."""
    return ",".join(f"{factor}={level}" for factor, level in combination.items())
