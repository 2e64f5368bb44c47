"""Segment names from dominant traits: words, nouns, thresholds and clashes."""

from __future__ import annotations

import numpy as np

from decision.sources.segment_features import BEHAVIOUR_NAMES
from training.segments.naming import TRAIT_WORDS, name_segments, trait_z

FEATURES = ["sessions", "recency_days", "tenure_days", "click_rate"]


def test_every_behaviour_feature_has_words() -> None:
    assert set(TRAIT_WORDS) == set(BEHAVIOUR_NAMES)


def test_the_strongest_traits_name_the_segment_strongest_first() -> None:
    z = np.array([[1.4, -0.9, 0.2, 0.6], [-1.1, 1.6, 0.3, 0.0]])
    names = name_segments(z, FEATURES, buyer_share=[0.8, 0.1], population_buyer_share=0.4)
    assert names == ["frequent recently-active click-happy shoppers", "lapsing occasional browsers"]


def test_at_most_three_words_and_none_below_the_threshold() -> None:
    z = np.array([[2.0, -1.9, 1.8, 1.7], [0.4, -0.3, 0.1, 0.0]])
    names = name_segments(z, FEATURES, buyer_share=[0.5, 0.5], population_buyer_share=0.5)
    assert names == ["frequent recently-active long-standing shoppers", "typical shoppers"]


def test_clashing_names_take_further_traits_then_numbers() -> None:
    z = np.array([[1.0, 0.0, 0.3, 0.0], [1.0, 0.0, -0.2, 0.0], [1.0, 0.0, -0.2, 0.0]])
    names = name_segments(z, FEATURES, buyer_share=[0.5] * 3, population_buyer_share=0.5)
    assert names[0] == "frequent long-standing shoppers"
    # no trait left that differs from everyone by 0.1 SD or more: a number tells them apart
    assert names[1] == "frequent new shoppers"
    assert names[2] == "frequent new shoppers 2"
    assert len(set(names)) == 3


def test_trait_z_is_the_segment_mean_of_standardized_features() -> None:
    z = np.array([[1.0, 2.0], [3.0, 4.0], [-2.0, -3.0]])
    assert trait_z(z, np.array([0, 0, 1]), 2).tolist() == [[2.0, 3.0], [-2.0, -3.0]]
