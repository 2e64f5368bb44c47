"""The rules tier in the pipeline: answers with rule and ruleset, carries the ruleset when it passes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from decision.domain import FallbackReason, Provenance, Request, Source
from decision.pipeline.context import RequestContext
from decision.pipeline.tier import Answer
from decision.tiers.rules.store import RulesetStore
from decision.tiers.rules.tier import RulesTier
from tests.decision.tiers.rules.conftest import NOW, write
from tests.fakes import FixedTier, decider, no_sources

RULES = """version: "{v}"
rules:
  - id: cart_reminder
    priority: 1
    when: {{field: placement, op: "==", value: cart_page}}
    then: {{content: [{content}], parameters: {{code: CART10}}}}
"""


def request(**fields: object) -> Request:
    return Request(**{"user_id": "u1", "placement": "cart_page", **fields})  # type: ignore[arg-type]


def context(**fields: object) -> RequestContext:
    return RequestContext(request(**fields), NOW, None, int(fields.get("max_results", 1) or 1), no_sources())  # type: ignore[call-overload]


@pytest.fixture
def tier(tmp_path: Path) -> Iterator[RulesTier]:
    write(tmp_path, RULES.format(v="v1", content="reminder, tips"))
    store = RulesetStore(tmp_path, poll_seconds=60)
    store.load_initial()
    yield RulesTier(store)
    store.stop()


def test_a_matching_rule_answers_with_its_id_version_hash_and_parameters(tier: RulesTier) -> None:
    answer = tier.decide(context(max_results=5))
    assert isinstance(answer, Answer)
    assert answer.source is Source.RULE
    assert [(i.content_id, i.rank, i.score) for i in answer.items] == [("reminder", 1, 1.0), ("tips", 2, 1.0)]
    assert answer.items[0].parameters == {"code": "CART10"}
    assert (answer.provenance.rule_id, answer.provenance.ruleset_version) == ("cart_reminder", "v1")
    assert len(answer.provenance.ruleset_hash) == 64


def test_no_match_passes_and_carries_the_evaluated_ruleset(tier: RulesTier) -> None:
    ctx = context(placement="home_banner")
    assert tier.decide(ctx) is FallbackReason.NO_RULE_MATCHED
    assert ctx.carried.ruleset_version == "v1"
    model = FixedTier("model", ["m1"], provenance=Provenance(model_name="nbc", model_version="3"))
    decision = decider(tier, model).decide(request(placement="home_banner"))
    assert decision.source is Source.MODEL
    assert (decision.provenance.ruleset_version, decision.provenance.model_version) == ("v1", "3")
    assert decision.provenance.fallback_reasons == (FallbackReason.NO_RULE_MATCHED,)


def test_a_rule_whose_content_is_all_excluded_passes(tier: RulesTier) -> None:
    ctx = context(exclude_content_ids=frozenset({"reminder", "tips"}))
    assert tier.decide(ctx) is FallbackReason.RULE_CONTENT_EXCLUDED
    partly = tier.decide(context(max_results=5, exclude_content_ids=frozenset({"reminder"})))
    assert isinstance(partly, Answer)
    assert [(i.content_id, i.rank) for i in partly.items] == [("tips", 1)]


def test_an_answer_is_reused_only_for_the_same_version_rule_limit_and_no_exclusions(
    tier: RulesTier, tmp_path: Path
) -> None:
    first, again = tier.decide(context(max_results=5)), tier.decide(context(max_results=5))
    assert again is first
    one = tier.decide(context(max_results=1))
    assert isinstance(one, Answer)
    assert [i.content_id for i in one.items] == ["reminder"]
    write(tmp_path, RULES.format(v="v2", content="fresh"))
    assert tier.store.reload() is None
    swapped = tier.decide(context(max_results=5))
    assert isinstance(swapped, Answer)
    assert [i.content_id for i in swapped.items] == ["fresh"]
    assert swapped.provenance.ruleset_version == "v2"


def test_no_ruleset_passes_with_no_ruleset(tmp_path: Path) -> None:
    assert RulesTier(RulesetStore(tmp_path / "missing")).decide(context()) is FallbackReason.NO_RULESET


def test_start_is_ready_only_once_valid_rules_are_active(tmp_path: Path) -> None:
    write(tmp_path, "rules: [broken\n")
    store = RulesetStore(tmp_path, poll_seconds=0.05)
    ready = threading.Event()
    tier = RulesTier(store)
    tier.start(ready.set)
    try:
        assert not ready.is_set()
        write(tmp_path, RULES.format(v="v3", content="x"))
        assert ready.wait(10)
    finally:
        tier.stop()
