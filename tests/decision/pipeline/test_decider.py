"""The decider walks its tiers in order: the first answer wins, passes say why, failures degrade."""

from __future__ import annotations

import logging
import time

import pytest

from decision.domain import FallbackReason, Provenance, Request, Source
from decision.pipeline.decider import Decider
from decision.pipeline.default import DefaultContent
from decision.settings import DEFAULT_PLACEMENTS
from tests.fakes import FailingTier, FixedTier, decider, no_sources

RULESET = Provenance("2026.11.1", "abc123")


def request(**fields: object) -> Request:
    return Request(**{"user_id": "u1", "placement": "cart_page", **fields})  # type: ignore[arg-type]


def test_the_first_tier_that_answers_decides_and_later_tiers_are_not_asked() -> None:
    first = FixedTier("promo", ["p1", "p2"], Source.OTHER, provenance=Provenance(details={"campaign": "x"}))
    second = FixedTier("model", ["m1"])
    decision = decider(first, second).decide(request(max_results=5))
    assert decision.source is Source.OTHER
    assert [(i.content_id, i.rank) for i in decision.items] == [("p1", 1), ("p2", 2)]
    assert decision.provenance.tier == "promo"
    assert decision.provenance.details == {"campaign": "x"}
    assert decision.provenance.fallback_reasons == ()
    assert second.seen == []


def test_passing_tiers_leave_their_reasons_in_order_and_carry_what_they_evaluated() -> None:
    rules = FixedTier("rules", passes=FallbackReason.NO_RULE_MATCHED, carries=RULESET)
    quiet = FixedTier("promo", passes=FallbackReason.NOT_APPLICABLE)
    model = FixedTier("model", ["m1"], provenance=Provenance(model_name="nbc", model_version="7"))
    decision = decider(rules, quiet, model).decide(request())
    assert decision.source is Source.MODEL
    assert decision.provenance == Provenance(
        "2026.11.1",
        "abc123",
        model_name="nbc",
        model_version="7",
        fallback_reasons=(FallbackReason.NO_RULE_MATCHED, FallbackReason.NOT_APPLICABLE),
        tier="model",
    )


def test_every_tier_sees_the_same_context() -> None:
    rules = FixedTier("rules", passes=FallbackReason.NO_RULE_MATCHED)
    model = FixedTier("model", ["m1"])
    decider(rules, model).decide(request(max_results=3))
    assert rules.seen[0] is model.seen[0]
    assert model.seen[0].limit == 3


def test_failing_tiers_degrade_to_the_default_without_leaking_user_data(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    rules = FailingTier("rules", FallbackReason.RULES_ERROR)
    model = FailingTier("model", FallbackReason.MODEL_ERROR)
    decision = decider(rules, model).decide(request(user_id="canary@example.com"))
    assert decision.source is Source.DEFAULT
    assert [i.content_id for i in decision.items] == ["cart_bestsellers"]
    assert decision.provenance.fallback_reasons == (FallbackReason.RULES_ERROR, FallbackReason.MODEL_ERROR)
    assert decision.provenance.tier == "default"
    assert "rules tier failed: RuntimeError" in caplog.text
    assert "canary@example.com" not in caplog.text


def test_a_tier_needing_more_time_than_is_left_is_skipped() -> None:
    slow = FixedTier("model", ["m1"])
    slow.min_budget_seconds = 0.002
    decision = decider(slow).decide(request(), deadline=time.perf_counter() + 0.0005)
    assert decision.source is Source.DEFAULT
    assert decision.provenance.fallback_reasons == (FallbackReason.DEADLINE,)
    assert slow.seen == []
    assert decider(slow).decide(request(), deadline=None).source is Source.MODEL


def test_the_default_honours_exclusions_and_the_limit() -> None:
    placements = {"cart_page": ("a", "b", "c")}
    decision = decider(placements=placements).decide(request(max_results=2, exclude_content_ids=frozenset({"a"})))
    assert [(i.content_id, i.score, i.rank) for i in decision.items] == [("b", 0.0, 1), ("c", 0.0, 2)]
    everything = frozenset({"a", "b", "c"})
    assert decider(placements=placements).decide(request(exclude_content_ids=everything)).items == ()


def test_a_failing_decision_sink_does_not_lose_the_answer() -> None:
    calls: list[str] = []

    def broken_sink(decision: object, *_: object) -> None:
        calls.append(getattr(decision, "decision_id", ""))
        raise OSError("disk full")

    decision = decider(sink=broken_sink).decide(request())
    assert decision.source is Source.DEFAULT
    assert calls == [decision.decision_id]


def test_the_tier_list_must_end_with_the_default_and_names_must_be_unique() -> None:
    with pytest.raises(ValueError, match="last tier must be the default"):
        Decider([FixedTier("model", ["m1"])], no_sources())
    with pytest.raises(ValueError, match="tier names must be unique"):
        Decider([FixedTier("x"), FixedTier("x"), DefaultContent(DEFAULT_PLACEMENTS)], no_sources())


def test_decision_ids_are_unique() -> None:
    d = decider()
    assert len({d.decide(request()).decision_id for _ in range(1000)}) == 1000
