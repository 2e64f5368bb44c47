"""RFM quintile edges and scores: hand-made cases, ties, and the serving rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from decision.sources.segments import RfmEdges
from training.segments.rfm import fit_rfm, learn_edges, score


def frame(recency: list[float], sessions: list[float], monetary: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"recency_days": recency, "sessions": sessions, "monetary": monetary})


def test_edges_are_the_inner_quintiles() -> None:
    # numpy's default (linear) quantiles of 1..10: 1 + 9 * (0.2, 0.4, 0.6, 0.8)
    assert learn_edges(np.arange(1.0, 11.0)) == pytest.approx((2.8, 4.6, 6.4, 8.2))


def test_scores_of_a_hand_made_case() -> None:
    values = list(np.arange(1.0, 11.0))
    users = frame(values, values, values)
    edges = fit_rfm(users)
    scores = score(edges, users)
    assert scores[:, 1].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]  # F and M: more is better
    assert scores[:, 0].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]  # R: fewer days is better
    assert (scores[:, 2] == scores[:, 1]).all()


def test_ties_share_one_score_and_edges_may_coincide() -> None:
    money = [0.0] * 6 + [10.0, 20.0, 30.0, 40.0]  # 60 % never bought
    users = frame([1.0] * 10, [1.0] * 10, money)
    edges = fit_rfm(users)
    assert edges.monetary == pytest.approx((0.0, 0.0, 4.0, 22.0))
    assert score(edges, users)[:, 2].tolist() == [1] * 6 + [4, 4, 5, 5]
    assert set(score(edges, users)[:, 1]) == {1}  # everyone tied: one score for all


def test_training_scores_equal_the_serving_rule() -> None:
    rng = np.random.default_rng(5)
    users = frame(
        list(rng.exponential(10, 500)), list(rng.poisson(3, 500).astype(float)), list(rng.gamma(0.5, 40, 500))
    )
    edges = fit_rfm(users)
    served = [edges.scores(*row) for row in users[["recency_days", "sessions", "monetary"]].itertuples(index=False)]
    assert score(edges, users).tolist() == [list(s) for s in served]


def test_no_users_no_edges() -> None:
    with pytest.raises(ValueError, match="cannot learn RFM edges from no users"):
        learn_edges(np.array([]))


def test_edges_round_trip_into_the_serving_type() -> None:
    edges = fit_rfm(frame([1.0, 2.0], [1.0, 2.0], [0.0, 5.0]))
    assert isinstance(edges, RfmEdges)
    assert all(len(e) == 4 for e in (edges.recency, edges.frequency, edges.monetary))
