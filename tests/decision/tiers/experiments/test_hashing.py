"""Assignment hashing reproduces GrowthBook's published test vectors (its SDK cases.json)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from decision.tiers.experiments.hashing import (
    SeededHash,
    bucket_ranges,
    choose,
    hash_v1,
    hash_v2,
    in_namespace,
)

# GrowthBook's SDK test cases (packages/sdk-js/test/cases.json, "hash"): [seed, value, version, expected].
SDK_HASH_CASES = [
    ("", "a", 1, 0.22),
    ("", "b", 1, 0.077),
    ("b", "a", 1, 0.946),
    ("ef", "d", 1, 0.652),
    ("asdf", "8952klfjas09ujk", 1, 0.549),
    ("", "123", 1, 0.011),
    ("", '___)((*":&', 1, 0.563),
    ("seed", "a", 2, 0.0505),
    ("seed", "b", 2, 0.2696),
    ("foo", "ab", 2, 0.2575),
    ("foo", "def", 2, 0.2019),
    ("89123klj", "8952klfjas09ujkasdf", 2, 0.124),
    ("90850943850283058242805", "123", 2, 0.7516),
    ("()**(%$##$%#$#", '___)((*":&', 2, 0.0128),
]


@pytest.mark.parametrize(("seed", "unit", "version", "expected"), SDK_HASH_CASES)
def test_hashes_match_the_sdk_vectors(seed: str, unit: str, version: int, expected: float) -> None:
    got = hash_v2(seed, unit) if version == 2 else hash_v1(seed, unit)
    assert got == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    ("weights", "coverage", "expected"),
    [  # the SDK's "getBucketRange" cases with valid weights
        ([0.5, 0.5], 1, [(0, 0.5), (0.5, 1)]),
        ([0.5, 0.5], 0.5, [(0, 0.25), (0.5, 0.75)]),
        ([0.5, 0.5], 0, [(0, 0), (0.5, 0.5)]),
        ([0.25] * 4, 1, [(0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1)]),
        ([0.4, 0.6], 1, [(0, 0.4), (0.4, 1)]),
        ([0.2, 0.3, 0.5], 1, [(0, 0.2), (0.2, 0.5), (0.5, 1)]),
        ([0.2, 0.3, 0.5], 0.2, [(0, 0.04), (0.2, 0.26), (0.5, 0.6)]),
        ([0.5, 0.5], -0.2, [(0, 0), (0.5, 0.5)]),
        ([0.5, 0.5], 1.5, [(0, 0.5), (0.5, 1)]),
    ],
)
def test_bucket_ranges_match_the_sdk(
    weights: list[float], coverage: float, expected: list[tuple[float, float]]
) -> None:
    got = bucket_ranges(weights, coverage)
    assert [(round(start, 9), round(end, 9)) for start, end in got] == expected


def test_choose_returns_the_arm_holding_the_point_or_minus_one() -> None:
    ranges = bucket_ranges([0.5, 0.5], 0.5)
    assert [choose(p, ranges) for p in (0.0, 0.24, 0.25, 0.5, 0.74, 0.75, 0.99)] == [0, 0, -1, 1, 1, -1, -1]


def test_namespaces_split_units_into_disjoint_ranges() -> None:
    units = [f"user-{i}" for i in range(2000)]
    first = {u for u in units if in_namespace(u, "home", 0.0, 0.5)}
    second = {u for u in units if in_namespace(u, "home", 0.5, 1.0)}
    assert first.isdisjoint(second)
    assert first | second == set(units)
    assert 0.45 < len(first) / len(units) < 0.55


@given(st.text(max_size=30), st.text(max_size=40))
def test_the_seeded_hash_equals_the_plain_one(seed: str, unit: str) -> None:
    assert SeededHash(seed)(unit) == hash_v2(seed, unit)
