"""Decider: walks the configured tiers in order until one answers — always an answer.

Each tier answers or passes with a reason; a tier that raises passes with its error
reason and is counted; a tier that needs more time than the caller's deadline leaves is
skipped with reason DEADLINE. The last tier is the placement's default content, which
always answers. The decider names no concrete tier: the list comes from configuration.
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
from decision.domain import Decision, FallbackReason, Provenance, Request, Source
from decision.pipeline.context import NOTHING_CARRIED, RequestContext, Sources, merge
from decision.pipeline.default import DefaultContent
from decision.pipeline.tier import Answer, Tier

log = logging.getLogger(__name__)

DEFAULT_MAX_RESULTS = 1

#: What the decision log (or any other consumer) is handed for every decision.
DecisionSink = Callable[[Decision, RequestContext], None]
UTC_NOW: Callable[[], datetime] = partial(datetime.now, UTC)  # a C call: no Python frame per decision

# Decision ids: a random per-process prefix and a counter. Unique across
# processes and replicas like a UUID, at a tenth of uuid4's cost (no syscall).
_ID_PREFIX = secrets.token_hex(8)
_id_counter = itertools.count(1)


class Decider:
    """Turns a validated Request into a Decision by walking its tiers."""

    def __init__(
        self,
        tiers: Sequence[Tier],
        sources: Sources,
        sinks: Sequence[DecisionSink] = (),
        clock: Callable[[], datetime] = UTC_NOW,
    ) -> None:
        """`sinks` get every decision (the decision log, tiers that learn from their decisions)."""
        if not tiers or not isinstance(tiers[-1], DefaultContent):
            raise ValueError("the last tier must be the default content, which always answers")
        names = [tier.name for tier in tiers]
        if len(set(names)) != len(names):
            raise ValueError(f"tier names must be unique, got {names}")
        self.tiers = tuple(tiers)
        self._default = tiers[-1]
        self._sources = sources
        self._sinks = tuple(sinks)
        self._clock = clock
        self._counters: dict[tuple[Source, str], Counter] = {}
        self._error_counters = {tier.name: metrics.TIER_ERRORS.labels(tier.name) for tier in tiers}

    @property
    def placements(self) -> Mapping[str, tuple[str, ...]]:
        """Configured placements and their default content."""
        return self._default.placements

    def decide(self, request: Request, deadline: float | None = None) -> Decision:
        """Decide for one request; `deadline` is the caller's, on the time.perf_counter() clock."""
        context = RequestContext(
            request, self._clock(), deadline, request.max_results or DEFAULT_MAX_RESULTS, self._sources
        )
        reasons = context.reasons
        for tier in self.tiers:
            budget = tier.min_budget_seconds
            if budget and deadline is not None and deadline - time.perf_counter() < budget:
                reasons.append(FallbackReason.DEADLINE)
                continue
            try:
                result = tier.decide(context)
            except Exception as exc:  # a tier's fault must never fail the call
                self._count_error(tier.name, exc)
                reasons.append(tier.error_reason)
                continue
            if isinstance(result, Answer):
                return self._finish(context, tier.name, result)
            reasons.append(result)
        # Only reachable if the default tier itself raised: answer with nothing rather than fail.
        return self._finish(context, self._default.name, Answer(Source.DEFAULT, ()))

    def _finish(self, context: RequestContext, tier: str, answer: Answer) -> Decision:
        request = context.request
        provenance = answer.provenance
        reasons = context.reasons
        if reasons or provenance.tier != tier or context.carried is not NOTHING_CARRIED:
            if context.carried is not NOTHING_CARRIED:
                provenance = merge(provenance, context.carried)
            provenance = _with_pipeline(provenance, tuple(reasons), tier)
        decision = Decision(
            decision_id=f"{_ID_PREFIX}-{next(_id_counter):016x}",
            request_id=request.request_id,
            source=answer.source,
            items=answer.items,
            provenance=provenance,
            decided_at=context.now,
        )
        counter = self._counters.get((answer.source, request.placement))
        if counter is None:  # placements are validated, so this dict stays small
            counter = self._counters[answer.source, request.placement] = metrics.DECISIONS.labels(
                answer.source.name, request.placement
            )
        counter.inc()
        for reason in reasons:
            _FALLBACK_COUNTERS[reason].inc()
        for sink in self._sinks:
            try:
                sink(decision, context)
            except Exception as exc:  # losing a log line must not lose the answer
                self._count_error("decision_sink", exc)
        return decision

    def _count_error(self, tier: str, exc: Exception) -> None:
        # The type only: exception text may carry user data (docs/hazards.md, "Exception text").
        counter = self._error_counters.get(tier) or metrics.TIER_ERRORS.labels(tier)
        counter.inc()
        log.error("%s tier failed: %s", tier, type(exc).__name__)


def _with_pipeline(p: Provenance, reasons: tuple[FallbackReason, ...], tier: str) -> Provenance:
    """`p` with the pipeline's fallback reasons and the answering tier's name (a positional
    constructor call: `_replace` costs several times as much on this path)."""
    return Provenance(
        p.ruleset_version,
        p.ruleset_hash,
        p.rule_id,
        p.model_name,
        p.model_version,
        reasons,
        tier,
        p.details,
        p.experiment_id,
        p.experiment_version,
        p.experiment_hash,
        p.arm,
        p.arm_probability,
    )


_FALLBACK_COUNTERS = {reason: metrics.FALLBACKS.labels(reason.name) for reason in FallbackReason}
