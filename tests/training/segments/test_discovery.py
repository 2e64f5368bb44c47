"""discover() end to end on a small world: serving equals training, file round trip, planted ARI."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from decision.sources.segments import SegmentModel
from training.io import Inputs
from training.segments.clustering import Transform
from training.segments.discovery import SegmentDiscovery, discover


def test_serving_assigns_every_training_user_the_label_training_gave(discovery: SegmentDiscovery) -> None:
    model, seen = discovery.model, discovery.behaviour
    served = [model.assign(p, seen.as_of).segment for p in seen.profiles]
    assert served == [model.segments[s].name for s in discovery.labels]
    rfm = [model.assign(p, seen.as_of).rfm for p in seen.profiles]
    assert np.array(rfm).tolist() == discovery.rfm.tolist()


def test_the_served_labels_are_k_means_predict_on_the_training_users(discovery: SegmentDiscovery) -> None:
    model, seen = discovery.model, discovery.behaviour
    z = Transform(model.feature_names, model.log1p, model.means, model.scales).apply(seen.frame)
    centroids = np.array(model.centroids)
    # one Lloyd step from the model's centroids leaves them where they are: a converged k-means
    fitted = KMeans(len(centroids), init=centroids, n_init=1, max_iter=1).fit(z)
    np.testing.assert_allclose(fitted.cluster_centers_, centroids, atol=1e-9)
    served = [model.assign(p, seen.as_of).segment for p in seen.profiles]
    assert served == [model.segments[s].name for s in fitted.predict(z)]


def test_the_final_fit_is_the_sweeps_fit_of_the_chosen_k(discovery: SegmentDiscovery) -> None:
    assert not discovery.merges  # the small world needs no merge at min_size 10
    assert adjusted_rand_score(discovery.chosen.labels, discovery.labels) == pytest.approx(1.0)


def test_the_model_file_round_trips(discovery: SegmentDiscovery) -> None:
    text = discovery.model.to_json()
    assert SegmentModel.from_json(text) == discovery.model


def test_no_user_id_reaches_the_model_file(discovery: SegmentDiscovery) -> None:
    text = discovery.model.to_json()
    assert not any(p.user_id in text for p in discovery.behaviour.profiles)


def test_segments_are_named_sized_and_profiled(discovery: SegmentDiscovery) -> None:
    segments = discovery.model.segments
    assert len({s.name for s in segments}) == len(segments) >= 2
    assert sum(s.size for s in segments) == len(discovery.behaviour)
    assert [s.size for s in segments] == sorted((s.size for s in segments), reverse=True)
    assert all(s.size >= discovery.min_size for s in segments)
    assert all(1 <= v <= 5 for s in segments for v in s.rfm_mean)
    assert all(0 <= s.buyer_share <= 1 and s.top_categories for s in segments)


def test_planted_segments_are_compared(discovery: SegmentDiscovery) -> None:
    planted = discovery.planted
    assert planted is not None
    assert set(planted.confusion.index) <= {"new", "casual", "regular", "loyal", "lapsed"}
    assert planted.confusion.to_numpy().sum() == len(discovery.behaviour)
    assert set(planted.ari_by_k) == {s.k for s in discovery.scores}
    # lifecycle is in the data: far better than chance (0), short of the supervised ceiling
    assert 0.1 < planted.ari <= planted.supervised_ari + 0.1


def test_near_duplicate_features_are_dropped(discovery: SegmentDiscovery) -> None:
    assert {p.feature for p in discovery.pruned}.isdisjoint(discovery.features)
    assert set(discovery.model.feature_names) == set(discovery.features)


def test_an_unknown_feature_is_refused_with_the_choices(inputs: Inputs) -> None:
    with pytest.raises(ValueError, match=r"unknown feature\(s\) \['shoe_size'\]; choose from recency_days"):
        discover(inputs.events, features=("sessions", "shoe_size"))


def test_the_same_seed_gives_the_same_model(inputs: Inputs, discovery: SegmentDiscovery) -> None:
    again = discover(inputs.events, inputs.users, k_range=range(2, 6), min_size=10, bootstrap=3, seed=1)
    assert again.model.to_json() == discovery.model.to_json()
