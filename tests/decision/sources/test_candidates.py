"""The candidate stage: eligible and not excluded, all of a small catalog, the most popular of a large one."""

from __future__ import annotations

import dataclasses

import numpy as np

from decision.sources.candidates import by_popularity, stage_order, take
from tests.decision.sources.test_features import make_spec


def test_a_catalog_within_the_limit_is_ranked_whole_in_index_order() -> None:
    spec = make_spec()
    assert stage_order(spec, spec.stats, {"b2", "a1", "b1", "unknown"}) == [0, 2, 3]


def test_a_larger_catalog_is_cut_to_its_most_popular_items() -> None:
    spec = dataclasses.replace(make_spec(), candidate_limit=2)
    # recent share + overall share: a1 .25+.6, a2 .25+.2, b1 .5+.2, b2 0
    assert stage_order(spec, spec.stats, set(spec.items)) == [0, 2, 1, 3]
    assert take(stage_order(spec, spec.stats, set(spec.items)), frozenset({0}), spec.candidate_limit) == [2, 1]


def test_ties_in_popularity_keep_index_order() -> None:
    spec = make_spec()
    spec.stats.recent[:] = 0
    spec.stats.clicks[:] = 1
    assert by_popularity(spec.stats, np.array([3, 1, 2])) == [3, 1, 2]
    assert by_popularity(spec.stats, np.array([1, 2, 3])) == [1, 2, 3]


def test_take_skips_the_excluded_and_stops_at_the_limit() -> None:
    assert take([5, 4, 3, 2, 1], frozenset(), 3) == [5, 4, 3]
    assert take([5, 4, 3, 2, 1], frozenset({4, 2}), 3) == [5, 3, 1]
    assert take([5, 4], frozenset({5, 4}), 3) == []
