"""Sticky assignment: GrowthBook's FNV-1a bucketing, so assignments can be cross-checked with its SDKs.

A unit (the pseudonymous user id) lands at a point in [0, 1) that depends only on the
experiment's seed and the unit: the same user gets the same arm in every request, on every
replica and across file versions, until the seed changes. The functions reproduce the open
GrowthBook SDKs exactly (including their published test vectors, see the tests):

- hash v2 (assignment): n = fnv1a32(str(fnv1a32(seed + unit))), point = (n mod 10,000) / 10,000;
- hash v1 (namespaces): n = fnv1a32(unit + "__" + namespace), point = (n mod 1,000) / 1,000;
- bucket ranges: arm i covers [sum of earlier weights, that + coverage × weight_i).

FNV-1a over ASCII text hashes its bytes; other text hashes its code points (as the SDKs do).
`SeededHash` keeps the FNV state after the seed, so per request only the unit is hashed.
"""

from __future__ import annotations

from collections.abc import Sequence

_OFFSET = 0x811C9DC5
_PRIME = 0x01000193
_MASK = 0xFFFFFFFF


def fnv1a32(text: str, state: int = _OFFSET) -> int:
    """32-bit FNV-1a of `text`, continuing from `state` (the offset basis by default)."""
    if text.isascii():
        for byte in text.encode():
            state = ((state ^ byte) * _PRIME) & _MASK
    else:
        for char in text:
            state = ((state ^ ord(char)) * _PRIME) & _MASK
    return state


def hash_v2(seed: str, unit: str) -> float:
    """GrowthBook's assignment hash: a point in [0, 1) with four decimals."""
    return (fnv1a32(str(fnv1a32(seed + unit))) % 10000) / 10000


def hash_v1(seed: str, unit: str) -> float:
    """GrowthBook's original hash (still used for namespaces): a point in [0, 1) with three decimals."""
    return (fnv1a32(unit + seed) % 1000) / 1000


def in_namespace(unit: str, namespace: str, start: float, end: float) -> bool:
    """Whether the unit's namespace point falls in [start, end): mutually exclusive experiments
    take disjoint ranges of one namespace."""
    return start <= hash_v1("__" + namespace, unit) < end


def bucket_ranges(weights: Sequence[float], coverage: float = 1.0) -> list[tuple[float, float]]:
    """Each arm's [start, end): arms tile [0, 1) by weight, each using `coverage` of its slice."""
    coverage = min(1.0, max(0.0, coverage))
    ranges = []
    cumulative = 0.0
    for weight in weights:
        start = cumulative
        cumulative += weight
        ranges.append((start, start + coverage * weight))
    return ranges


def choose(point: float, ranges: Sequence[tuple[float, float]]) -> int:
    """The arm whose range holds `point`, or -1 (the unit is outside the experiment's coverage)."""
    for index, (start, end) in enumerate(ranges):
        if start <= point < end:
            return index
    return -1


class SeededHash:
    """`hash_v2(seed, unit)` with the seed's FNV state computed once (an experiment's hot path)."""

    __slots__ = ("_ascii_state", "_seed")

    def __init__(self, seed: str) -> None:
        self._seed = seed
        self._ascii_state = fnv1a32(seed) if seed.isascii() else None

    def __call__(self, unit: str) -> float:
        state = self._ascii_state
        if state is None or not unit.isascii():  # mixed text hashes code points throughout
            return hash_v2(self._seed, unit)
        for byte in unit.encode():
            state = ((state ^ byte) * _PRIME) & _MASK
        second = _OFFSET
        for byte in str(state).encode():
            second = ((second ^ byte) * _PRIME) & _MASK
        return (second % 10000) / 10000
