"""The model tier end to end in process: candidates, exclusion, scores, exploration over the
ranked candidates, and the snapshot-layout check."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from decision.domain import Context, FallbackReason, Request, Source
from decision.pipeline.context import RequestContext, Sources
from decision.pipeline.tier import Answer
from decision.sources.catalog import Catalog, CatalogItem
from decision.sources.features import FEATURE_NAMES, FEATURE_SET_VERSION, Profile, rows
from decision.tiers.model.artifact import LocalModel
from decision.tiers.model.explore import Exploration
from decision.tiers.model.pool import ModelPool
from decision.tiers.model.ranker import Ranker
from decision.tiers.model.store import LoadedModel
from decision.tiers.model.tier import ModelTier
from tests.decision.sources.test_features import ITEMS, NOW, make_spec, profile
from tests.fakes import FixedCatalog, FixedProfiles

SPEC = make_spec()  # a1, a2 repeatable; b1, b2 not


class OneModel:
    """What the pool reads from a ModelStore: the serving model; start and stop do nothing."""

    def __init__(self, model: LoadedModel) -> None:
        self.current = model

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    cache_dir = Path("/nonexistent/model-cache")


@pytest.fixture(scope="module")
def ranker(tmp_path_factory: pytest.TempPathFactory) -> Ranker:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(400, len(FEATURE_NAMES)))
    y = (x[:, 0] + rng.normal(size=400) > 1).astype(int)
    params = {"objective": "lambdarank", "num_leaves": 7, "min_data_in_leaf": 5, "verbose": -1}
    booster = lgb.train(params, lgb.Dataset(x, y, group=[10] * 40), num_boost_round=5)
    path = tmp_path_factory.mktemp("ranker")
    booster.save_model(path / "model.lgb")
    sha = hashlib.sha256((path / "model.lgb").read_bytes()).hexdigest()
    return Ranker.load(LocalModel("nbc", "7", path, FEATURE_NAMES, FEATURE_SET_VERSION, SPEC, None, sha))


def tier(ranker: Ranker, layout: str | None = None, exploration: dict[str, Exploration] | None = None) -> ModelTier:
    loaded = LoadedModel("nbc", "7", ranker, Path("."))
    pool = ModelPool(lambda alias: OneModel(loaded), 1, lambda: layout)  # type: ignore[arg-type,return-value]
    ranking = ModelTier(pool, "champion", exploration=exploration)
    ranking.start(lambda: None)
    return ranking


def context(user: Profile | None, now: datetime = NOW, **request: object) -> RequestContext:
    catalog = Catalog(CatalogItem(c, "k", frozenset({"p1"})) for c in (*ITEMS, "new-item"))
    profiles = FixedProfiles({"u1": user} if user else {})
    fields: dict[str, object] = {"context": Context(region="X"), "consent": True, **request}
    req = Request("u1", "p1", **fields)  # type: ignore[arg-type]
    return RequestContext(req, now, None, 10, Sources(FixedCatalog(catalog), profiles))


def test_ranks_every_candidate_with_the_shared_rows_and_scores_as_choice_shares(ranker: Ranker) -> None:
    answer = tier(ranker).decide(context(None))
    assert isinstance(answer, Answer)
    assert answer.source == Source.MODEL
    assert {item.content_id for item in answer.items} == set(ITEMS)  # "new-item" is not in the spec
    expected = ranker.scores(rows(SPEC, SPEC.stats, None, context(None).request, NOW, np.arange(4)))
    shares = np.exp(expected - expected.max()) / np.exp(expected - expected.max()).sum()
    order = np.argsort(-shares, kind="stable")
    assert [item.content_id for item in answer.items] == [ITEMS[i] for i in order]
    assert [item.score for item in answer.items] == pytest.approx(shares[order])
    assert sum(item.score for item in answer.items) == pytest.approx(1.0)


def test_consumed_content_that_may_not_be_repeated_is_never_shown(ranker: Ranker) -> None:
    user = profile(engaged=("b1", "a1"))  # b1 is not repeatable, a1 is
    ranking = tier(ranker)
    for _ in range(2):  # the second request reuses the candidates kept with the profile
        answer = ranking.decide(context(user))
        assert isinstance(answer, Answer)
        assert {item.content_id for item in answer.items} == {"a1", "a2", "b2"}
    excluding = ranking.decide(context(user, exclude_content_ids=frozenset({"a2"})))
    assert isinstance(excluding, Answer)
    assert {item.content_id for item in excluding.items} == {"a1", "b2"}


def test_nothing_left_to_show_passes(ranker: Ranker) -> None:
    user = profile(engaged=("b1", "b2"))
    everything = frozenset({"a1", "a2"})
    assert tier(ranker).decide(context(user, exclude_content_ids=everything)) == FallbackReason.NO_ELIGIBLE_CONTENT


def test_a_snapshot_written_for_another_spec_layout_is_not_scored(
    ranker: Ranker, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert tier(ranker, layout="f" * 12).decide(context(None)) == FallbackReason.NO_MODEL
    assert f"trained for feature spec layout {SPEC.layout}, the profile snapshot was written for ffff" in caplog.text
    assert isinstance(tier(ranker, layout=SPEC.layout).decide(context(None)), Answer)
    assert isinstance(tier(ranker, layout=None).decide(context(None)), Answer)  # no snapshot: nothing to mismatch


def test_the_answer_does_not_depend_on_the_cache(ranker: Ranker) -> None:
    cached, user = tier(ranker), profile(engaged=("b1", "z", "a1"))
    cached.decide(context(user))  # fills the caches kept with the profile
    later = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # category_hours moves on; the cached pairs do not
    again = cached.decide(context(user, later))
    fresh = tier(ranker).decide(context(profile(engaged=("b1", "z", "a1")), later))
    assert isinstance(again, Answer)
    assert again == fresh


def test_an_exploring_placement_draws_from_the_ranked_candidates_and_logs_probabilities(ranker: Ranker) -> None:
    user = profile(engaged=("b1", "a1"))  # b1 may not be shown again: never drawn either
    greedy = tier(ranker).decide(context(user))
    assert isinstance(greedy, Answer)
    exploring = tier(ranker, exploration={"p1": Exploration.parse("epsilon:0.5", "test")})
    firsts: dict[str, float] = {}
    for _ in range(300):
        answer = exploring.decide(context(user))
        assert isinstance(answer, Answer)
        assert len({item.content_id for item in answer.items}) == len(answer.items) == 3
        assert {item.content_id for item in answer.items} <= {"a1", "a2", "b2"}
        first = answer.items[0]
        assert firsts.setdefault(first.content_id, first.probability) == pytest.approx(first.probability)
        # the greedy answer's scores: exploration changes which items, not what the model said of them
        assert first.score == pytest.approx(next(i.score for i in greedy.items if i.content_id == first.content_id))
    best = greedy.items[0].content_id
    assert firsts[best] == pytest.approx(0.5 + 0.5 / 3)
    assert all(p == pytest.approx(0.5 / 3) for c, p in firsts.items() if c != best)
    assert len(firsts) == 3
