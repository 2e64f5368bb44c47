"""Decider: rules, then the model, then the placement's default — always an answer.

A failing tier degrades to the next one and is counted; `decide` raises only
for our own programming errors in this module, never for a tier's fault.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial

from prometheus_client import Counter

from decision import metrics
from decision.domain import Decision, FallbackReason, Item, Provenance, Request, Source
from decision.pipeline.tier import ModelOutcome, ModelTier, RuleOutcome, RuleTier

log = logging.getLogger(__name__)

DEFAULT_MAX_RESULTS = 1
_RULE_ANSWERS_LIMIT = 4096  # (ruleset version, rule, limit) entries before the cache starts over
# Below this much time left, the model tier is skipped: the default is instant.
MIN_MODEL_BUDGET_SECONDS = 0.002

DecisionSink = Callable[[Decision, Request], None]
UTC_NOW: Callable[[], datetime] = partial(datetime.now, UTC)  # a C call: no Python frame per decision

# Decision ids: a random per-process prefix and a counter. Unique across
# processes and replicas like a UUID, at a tenth of uuid4's cost (no syscall).
_ID_PREFIX = secrets.token_hex(8)
_id_counter = itertools.count(1)


class Decider:
    """Turns a validated Request into a Decision using whatever tiers are up."""

    def __init__(
        self,
        placements: Mapping[str, Sequence[str]],
        rules: RuleTier | None = None,
        model: ModelTier | None = None,
        sink: DecisionSink | None = None,
        clock: Callable[[], datetime] = UTC_NOW,
    ) -> None:
        self._defaults = {name: tuple(content) for name, content in placements.items()}
        self._rules = rules
        self._model = model
        self._sink = sink
        self._clock = clock
        self._counters: dict[tuple[Source, str], Counter] = {}
        self._rule_answers: dict[tuple[str, str | None, int], tuple[tuple[Item, ...], Provenance]] = {}

    @property
    def placements(self) -> Mapping[str, tuple[str, ...]]:
        """Configured placements and their default content."""
        return self._defaults

    def decide(self, request: Request, deadline: float | None = None) -> Decision:
        """Decide for one request; `deadline` is the caller's, on the time.perf_counter() clock."""
        now = self._clock()
        limit = request.max_results or DEFAULT_MAX_RESULTS
        reasons: list[FallbackReason] = []
        outcome = self._evaluate_rules(request, now, reasons)
        version, digest = (outcome.ruleset_version, outcome.ruleset_hash) if outcome is not None else ("", "")
        if outcome is not None and outcome.rule_id is not None:
            answer = self._rule_answer(outcome, request.exclude_content_ids, limit)
            if answer is not None:
                return self._finish(request, now, Source.RULE, *answer)
            reasons.append(FallbackReason.RULE_CONTENT_EXCLUDED)
        ranked = self._rank_with_model(request, now, limit, deadline, reasons)
        if ranked is not None:
            items = tuple([Item(c, score, rank) for rank, (c, score) in enumerate(ranked.ranked[:limit], 1)])
            provenance = Provenance(
                version,
                digest,
                model_name=ranked.model_name,
                model_version=ranked.model_version,
                fallback_reasons=tuple(reasons),
            )
            return self._finish(request, now, Source.MODEL, items, provenance)
        defaults = [c for c in self._defaults[request.placement] if c not in request.exclude_content_ids]
        items = tuple([Item(c, 0.0, rank) for rank, c in enumerate(defaults[:limit], 1)])
        provenance = Provenance(version, digest, fallback_reasons=tuple(reasons))
        return self._finish(request, now, Source.DEFAULT, items, provenance)

    def _rule_answer(
        self, outcome: RuleOutcome, excluded: frozenset[str], limit: int
    ) -> tuple[tuple[Item, ...], Provenance] | None:
        """A fired rule's items and provenance; None when exclusions leave no content.

        With nothing excluded they depend only on the ruleset version (its content hash),
        the rule and the limit, so they are built once and shared (they are immutable):
        building them was about a tenth of a rule-path decision.
        """
        key = (outcome.ruleset_hash, outcome.rule_id, limit)
        if not excluded and (cached := self._rule_answers.get(key)) is not None:
            return cached
        content = [c for c in outcome.content_ids if c not in excluded][:limit]
        if not content:
            return None
        items = tuple([Item(c, 1.0, rank, outcome.parameters) for rank, c in enumerate(content, 1)])
        answer = items, Provenance(outcome.ruleset_version, outcome.ruleset_hash, rule_id=outcome.rule_id or "")
        if not excluded:
            if len(self._rule_answers) >= _RULE_ANSWERS_LIMIT:  # superseded versions' entries
                self._rule_answers.clear()
            self._rule_answers[key] = answer
        return answer

    def _evaluate_rules(self, request: Request, now: datetime, reasons: list[FallbackReason]) -> RuleOutcome | None:
        if self._rules is None:
            reasons.append(FallbackReason.NO_RULESET)
            return None
        try:
            outcome = self._rules.evaluate(request, now)
        except Exception as exc:  # a tier's fault must never fail the call
            _count_tier_error("rules", exc)
            reasons.append(FallbackReason.RULES_ERROR)
            return None
        if outcome is None:
            reasons.append(FallbackReason.NO_RULESET)
        elif outcome.rule_id is None:
            reasons.append(FallbackReason.NO_RULE_MATCHED)
        return outcome

    def _rank_with_model(
        self,
        request: Request,
        now: datetime,
        limit: int,
        deadline: float | None,
        reasons: list[FallbackReason],
    ) -> ModelOutcome | None:
        """The model's ranking, or None with the reason appended."""
        if self._model is None:
            reasons.append(FallbackReason.NO_MODEL)
            return None
        if deadline is not None and deadline - time.perf_counter() < MIN_MODEL_BUDGET_SECONDS:
            reasons.append(FallbackReason.DEADLINE)
            return None
        try:
            outcome = self._model.rank(request, now, limit)
        except Exception as exc:  # a tier's fault must never fail the call
            _count_tier_error("model", exc)
            reasons.append(FallbackReason.MODEL_ERROR)
            return None
        if outcome is None:
            reasons.append(FallbackReason.NO_MODEL)
        elif not outcome.ranked:
            reasons.append(FallbackReason.NO_ELIGIBLE_CONTENT)
            return None
        return outcome

    def _finish(
        self, request: Request, now: datetime, source: Source, items: tuple[Item, ...], provenance: Provenance
    ) -> Decision:
        decision = Decision(
            decision_id=f"{_ID_PREFIX}-{next(_id_counter):016x}",
            request_id=request.request_id,
            source=source,
            items=items,
            provenance=provenance,
            decided_at=now,
        )
        counter = self._counters.get((source, request.placement))
        if counter is None:  # placements are validated, so this dict stays small
            counter = self._counters[source, request.placement] = metrics.DECISIONS.labels(
                source.name, request.placement
            )
        counter.inc()
        for reason in provenance.fallback_reasons:
            _FALLBACK_COUNTERS[reason].inc()
        if self._sink is not None:
            try:
                self._sink(decision, request)
            except Exception as exc:  # losing a log line must not lose the answer
                _count_tier_error("decision_log", exc)
        return decision


_FALLBACK_COUNTERS = {reason: metrics.FALLBACKS.labels(reason.name) for reason in FallbackReason}


def _count_tier_error(tier: str, exc: Exception) -> None:
    # The type only: exception text may carry user data (RELIABILITY.md D7, G6).
    metrics.TIER_ERRORS.labels(tier).inc()
    log.error("%s tier failed: %s", tier, type(exc).__name__)
