"""The clustering space (log1p + standardization, near-duplicates dropped, the within-segment
unit) and the min-size merge."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from training.segments.clustering import (
    MIN_WITHIN_SD,
    Transform,
    fit_with_min_size,
    fit_within,
    kmeans,
    prune_redundant,
    within_sd,
)


def test_transform_logs_the_skewed_features_then_standardizes() -> None:
    frame = pd.DataFrame({"sessions": [0.0, np.e - 1, np.e**2 - 1], "click_rate": [0.2, 0.4, 0.6]})
    transform = Transform.fit(frame, ("sessions", "click_rate"))
    assert transform.log1p == (True, False)  # from the features' own definitions
    assert transform.means == pytest.approx((1.0, 0.4))
    z = transform.apply(frame)
    assert z.mean(axis=0) == pytest.approx([0.0, 0.0])
    assert z.std(axis=0) == pytest.approx([1.0, 1.0])
    assert z[:, 0] == pytest.approx(z[:, 1])  # log1p made sessions evenly spaced, like click_rate


def test_a_constant_feature_gets_scale_one_not_a_division_by_zero() -> None:
    frame = pd.DataFrame({"sessions": [3.0, 3.0], "click_rate": [0.1, 0.3]})
    transform = Transform.fit(frame, ("sessions", "click_rate"))
    assert transform.scales[0] == 1.0
    assert transform.apply(frame)[:, 0].tolist() == [0.0, 0.0]


def test_near_duplicates_are_dropped_keeping_the_first() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=500), rng.normal(size=500)
    z = np.column_stack([a, a + 0.05 * rng.normal(size=500), b, -b])
    pruned = prune_redundant(z, ("a", "a_twin", "b", "minus_b"), max_correlation=0.9)
    assert [(p.feature, p.kept) for p in pruned] == [("a_twin", "a"), ("minus_b", "b")]
    assert pruned[1].correlation == pytest.approx(-1.0)
    assert prune_redundant(z, ("a", "a_twin", "b", "minus_b"), max_correlation=1.0) == []


def three_groups(sizes: tuple[int, int, int]) -> np.ndarray:
    rng = np.random.default_rng(1)
    centers = [(0.0, 0.0), (10.0, 0.0), (10.0, 3.0)]
    return np.vstack([rng.normal(c, 0.5, size=(n, 2)) for c, n in zip(centers, sizes, strict=True)])


def test_a_cluster_below_the_minimum_size_joins_its_nearest() -> None:
    z = three_groups((200, 150, 20))  # the 20 sit 3 units from the 150 and 10 from the 200
    result = fit_with_min_size(z, 3, min_size=50, seed=0)
    assert len(result.merges) == 1
    merge = result.merges[0]
    assert merge.size == 20
    sizes = np.bincount(result.labels)
    assert sizes.tolist() == [200, 170]  # largest first; the 20 went to the 150 next to them
    assert merge.cluster != merge.into


def test_without_small_clusters_the_labels_are_k_means_predict() -> None:
    z = three_groups((200, 150, 120))
    result = fit_with_min_size(z, 3, min_size=50, seed=0)
    assert result.merges == []
    fitted = kmeans(3, 0).fit(z)
    # same partition (segments are renumbered largest first)
    assert pd.crosstab(result.labels, fitted.predict(z)).gt(0).sum(axis=1).eq(1).all()


def test_labels_are_each_users_nearest_centroid_after_merging() -> None:
    z = three_groups((200, 150, 20))
    result = fit_with_min_size(z, 3, min_size=50, seed=0)
    nearest = ((z[:, None, :] - result.centroids[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    assert (nearest == result.labels).all()


def test_a_minimum_above_everyone_leaves_one_segment() -> None:
    z = three_groups((30, 30, 30))
    result = fit_with_min_size(z, 3, min_size=1000, seed=0)
    assert len(result.centroids) == 1
    assert len(result.merges) == 2


def test_within_sd_is_the_pooled_within_cluster_sd_floored() -> None:
    z = np.array([[0.0, 5.0], [2.0, 5.0], [10.0, -5.0], [14.0, -5.0]])
    sd = within_sd(z, np.array([0, 0, 1, 1]), 2)
    assert sd[0] == pytest.approx(np.sqrt((1 + 1 + 4 + 4) / 4))
    assert sd[1] == MIN_WITHIN_SD  # constant inside each cluster: no infinite weight


def test_fit_within_measures_each_feature_in_its_within_cluster_sd() -> None:
    rng = np.random.default_rng(0)
    # feature 0 holds two groups 6 SDs apart, feature 1 is noise: population-standardized,
    # the split is shrunk by its own spread; its within-group SD is the fair unit
    groups = np.repeat([0.0, 6.0], 300) + rng.normal(size=600)
    raw = np.column_stack([groups, rng.normal(size=600)])
    z = (raw - raw.mean(axis=0)) / raw.std(axis=0)
    divisor, model = fit_within(z, 2, seed=0)
    assert divisor[0] == pytest.approx(1 / raw[:, 0].std(), rel=0.1)  # one raw unit, in population SDs
    assert divisor[1] == pytest.approx(1.0, rel=0.05)
    assert adjusted_rand_score(np.repeat([0, 1], 300), model.labels_) > 0.95
    np.testing.assert_array_equal(divisor, within_sd(z, model.labels_, 2))  # a fixed point


def test_rescaled_transform_divides_the_standardized_values() -> None:
    frame = pd.DataFrame({"sessions": [0.0, 3.0, 8.0], "click_rate": [0.2, 0.4, 0.9]})
    transform = Transform.fit(frame, ("sessions", "click_rate"))
    factors = np.array([0.5, 2.0])
    np.testing.assert_allclose(transform.rescaled(factors).apply(frame), transform.apply(frame) / factors)
