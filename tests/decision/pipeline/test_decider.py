"""The decider's tier order, fallbacks and provenance, with real-interface fakes."""

from __future__ import annotations

import logging
import time

import pytest

from decision.domain import FallbackReason, Request, Source
from decision.pipeline.decider import Decider
from decision.pipeline.tier import RuleOutcome
from decision.settings import DEFAULT_PLACEMENTS
from tests.fakes import FailingTier, FixedModel, FixedRules

RULE_HIT = RuleOutcome("2026.11.1", "abc123", "cart_reminder", ("cart_reminder", "cart_tips"), {"code": "CART10"})
RULE_MISS = RuleOutcome("2026.11.1", "abc123")


def request(**fields: object) -> Request:
    return Request(**{"user_id": "u1", "placement": "cart_page", **fields})  # type: ignore[arg-type]


def test_a_matching_rule_decides_with_its_id_version_and_parameters() -> None:
    decision = Decider(DEFAULT_PLACEMENTS, FixedRules(RULE_HIT), FixedModel([("m1", 0.9)])).decide(
        request(max_results=5)
    )
    assert decision.source is Source.RULE
    assert [i.content_id for i in decision.items] == ["cart_reminder", "cart_tips"]
    assert decision.items[0].parameters == {"code": "CART10"}
    assert decision.provenance.rule_id == "cart_reminder"
    assert decision.provenance.ruleset_version == "2026.11.1"
    assert decision.provenance.fallback_reasons == ()


def test_no_rule_match_falls_to_the_model_and_keeps_the_ruleset_version() -> None:
    decision = Decider(DEFAULT_PLACEMENTS, FixedRules(RULE_MISS), FixedModel([("m1", 0.9), ("m2", 0.1)])).decide(
        request(max_results=2)
    )
    assert decision.source is Source.MODEL
    assert [(i.content_id, i.rank) for i in decision.items] == [("m1", 1), ("m2", 2)]
    assert (decision.provenance.model_name, decision.provenance.model_version) == ("nbc", "7")
    assert decision.provenance.ruleset_version == "2026.11.1"
    assert decision.provenance.fallback_reasons == (FallbackReason.NO_RULE_MATCHED,)


def test_a_rule_answer_is_reused_only_for_the_same_version_rule_limit_and_no_exclusions() -> None:
    rules = FixedRules(RULE_HIT)
    decider = Decider(DEFAULT_PLACEMENTS, rules, FixedModel([("m1", 0.9)]))
    first, again = decider.decide(request(max_results=5)), decider.decide(request(max_results=5))
    assert again.items is first.items
    assert again.provenance is first.provenance
    assert [i.content_id for i in decider.decide(request(max_results=1)).items] == ["cart_reminder"]
    excluded = decider.decide(request(max_results=5, exclude_content_ids=frozenset({"cart_reminder"})))
    assert [(i.content_id, i.rank) for i in excluded.items] == [("cart_tips", 1)]
    assert [i.content_id for i in decider.decide(request(max_results=5)).items] == ["cart_reminder", "cart_tips"]
    rules.outcome = RULE_HIT._replace(ruleset_version="2026.11.2", ruleset_hash="def456", content_ids=("new",))
    swapped = decider.decide(request(max_results=5))
    assert [i.content_id for i in swapped.items] == ["new"]
    assert (swapped.provenance.ruleset_version, swapped.provenance.ruleset_hash) == ("2026.11.2", "def456")


def test_rule_content_all_excluded_falls_through() -> None:
    decider = Decider(DEFAULT_PLACEMENTS, FixedRules(RULE_HIT), FixedModel([("m1", 0.9)]))
    decision = decider.decide(request(exclude_content_ids=frozenset({"cart_reminder", "cart_tips"})))
    assert decision.source is Source.MODEL
    assert decision.provenance.fallback_reasons == (FallbackReason.RULE_CONTENT_EXCLUDED,)


def test_failing_tiers_degrade_to_default_without_leaking_user_data(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    decider = Decider(DEFAULT_PLACEMENTS, FailingTier(), FailingTier())
    decision = decider.decide(request(user_id="canary@example.com"))
    assert decision.source is Source.DEFAULT
    assert [i.content_id for i in decision.items] == ["cart_bestsellers"]
    assert decision.provenance.fallback_reasons == (FallbackReason.RULES_ERROR, FallbackReason.MODEL_ERROR)
    assert "rules tier failed" in caplog.text
    assert "canary@example.com" not in caplog.text


def test_no_time_left_skips_the_model() -> None:
    decider = Decider(DEFAULT_PLACEMENTS, FixedRules(RULE_MISS), FixedModel([("m1", 0.9)]))
    decision = decider.decide(request(), deadline=time.perf_counter() + 0.0005)
    assert decision.source is Source.DEFAULT
    assert decision.provenance.fallback_reasons == (FallbackReason.NO_RULE_MATCHED, FallbackReason.DEADLINE)


def test_model_with_nothing_eligible_falls_to_default() -> None:
    decision = Decider(DEFAULT_PLACEMENTS, None, FixedModel([])).decide(request())
    assert decision.source is Source.DEFAULT
    assert decision.provenance.fallback_reasons == (FallbackReason.NO_RULESET, FallbackReason.NO_ELIGIBLE_CONTENT)


def test_a_failing_decision_sink_does_not_lose_the_answer() -> None:
    calls: list[str] = []

    def broken_sink(decision: object, *_: object) -> None:
        calls.append(getattr(decision, "decision_id", ""))
        raise OSError("disk full")

    decision = Decider(DEFAULT_PLACEMENTS, sink=broken_sink).decide(request())
    assert decision.source is Source.DEFAULT
    assert calls == [decision.decision_id]
