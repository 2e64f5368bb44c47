"""The rules tier: the active ruleset's winning rule answers, with its id and the ruleset version.

It holds readiness until the first ruleset is active: answering without the rules would
skip legal exclusions and opt-outs. When it passes (no rule matched, every content id of
the rule excluded) it carries the evaluated ruleset's version and hash into the answer
of whichever tier decides, so every decision names the rules it was checked against.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from decision.conditions.errors import SpecFileError
from decision.domain import FallbackReason, Item, Provenance, Source
from decision.pipeline.context import RequestContext
from decision.pipeline.tier import Answer, TierEnvironment, TierResult
from decision.tiers.rules.outcome import RuleOutcome
from decision.tiers.rules.store import RulesetStore

log = logging.getLogger(__name__)

_ANSWERS_LIMIT = 4096  # (ruleset hash, rule, limit) entries before the cache starts over


class RulesTier:
    """Adapts a RulesetStore to the pipeline."""

    error_reason = FallbackReason.RULES_ERROR
    min_budget_seconds = 0.0

    def __init__(self, store: RulesetStore, name: str = "rules") -> None:
        self.name = name
        self.store = store
        self._answers: dict[tuple[str, str | None, int], Answer] = {}

    def decide(self, context: RequestContext) -> TierResult:
        outcome = self.store.evaluate(context.request, context.now, context.segment_of)
        if outcome is None:
            return FallbackReason.NO_RULESET
        if outcome.rule_id is not None:
            answer = self._answer(outcome, context.request.exclude_content_ids, context.limit)
            if answer is not None:
                return answer
        context.carry(Provenance(outcome.ruleset_version, outcome.ruleset_hash))
        return FallbackReason.NO_RULE_MATCHED if outcome.rule_id is None else FallbackReason.RULE_CONTENT_EXCLUDED

    def _answer(self, outcome: RuleOutcome, excluded: frozenset[str], limit: int) -> Answer | None:
        """A fired rule's answer; None when exclusions leave no content.

        With nothing excluded it depends only on the ruleset version (its content hash),
        the rule and the limit, so it is built once and shared (it is immutable): building
        it was a noticeable share of a rule-path decision (bench/README.md).
        """
        key = (outcome.ruleset_hash, outcome.rule_id, limit)
        if not excluded and (cached := self._answers.get(key)) is not None:
            return cached
        content = [c for c in outcome.content_ids if c not in excluded][:limit]
        if not content:
            return None
        items = tuple([Item(c, 1.0, rank, outcome.parameters) for rank, c in enumerate(content, 1)])
        provenance = Provenance(outcome.ruleset_version, outcome.ruleset_hash, outcome.rule_id or "", tier=self.name)
        answer = Answer(Source.RULE, items, provenance)
        if not excluded:
            if len(self._answers) >= _ANSWERS_LIMIT:  # superseded versions' entries
                self._answers.clear()
            self._answers[key] = answer
        return answer

    def start(self, ready: Callable[[], None]) -> None:
        """Load the rules (a broken folder leaves the tier not ready until fixed), then watch them."""
        self.store.add_listener(ready)  # called on every activation; readiness is kept once given
        try:
            self.store.load_initial()
        except SpecFileError as exc:
            log.error("no valid ruleset in %s; NOT_SERVING until it is fixed:\n%s", self.store.path, exc)
        self.store.start()

    def stop(self) -> None:
        self.store.stop()


def build(env: TierEnvironment) -> RulesTier:
    """The `rules` entry of the `tiers` setting."""
    settings = env.settings
    return RulesTier(RulesetStore(settings.rules_path, settings.rules_poll_seconds), env.name)
