"""Choosing k by silhouette and measuring stability, on planted, well-separated blobs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from training.segments.selection import KScore, best, stability, sweep


def blobs(k: int, seed: int = 0) -> np.ndarray:
    points, _ = make_blobs(
        n_samples=120 * k, centers=k, n_features=3, cluster_std=0.6, center_box=(-12, 12), random_state=seed
    )
    return np.asarray(points)


@pytest.mark.parametrize("planted", [3, 4, 5])
def test_silhouette_recovers_the_planted_number_of_blobs(planted: int) -> None:
    scores = sweep(blobs(planted), range(2, 8), seed=0, bootstrap=0)
    assert best(scores).k == planted
    assert [s.k for s in scores] == list(range(2, 8))


def test_the_planted_k_is_stable_across_resamples() -> None:
    mean, low = stability(blobs(4), 4, seed=0, bootstrap=4)
    assert mean > 0.99
    assert low > 0.99


def test_uniform_noise_split_in_many_parts_is_less_stable() -> None:
    noise = np.random.default_rng(0).uniform(size=(400, 2))
    assert stability(noise, 7, seed=0, bootstrap=4)[0] < stability(blobs(4), 4, seed=0, bootstrap=4)[0]


def test_without_resamples_stability_is_not_a_number() -> None:
    assert all(math.isnan(v) for v in stability(blobs(3), 3, seed=0, bootstrap=1))


def test_a_silhouette_tie_goes_to_the_smaller_k() -> None:
    tied = [KScore(k, 0.5, 1.0, 1.0, 0.0, np.zeros(1), np.ones(1), np.zeros((k, 1))) for k in (5, 3, 4)]
    assert best(tied).k == 3


def test_a_k_range_that_fits_no_data_is_refused() -> None:
    with pytest.raises(ValueError, match=r"no k in \[5, 6\] fits 6 users"):
        sweep(blobs(3)[:6], range(5, 7), seed=0, bootstrap=0)
