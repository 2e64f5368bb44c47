"""A compiled ruleset loaded into the engine: what the store publishes and requests use."""

from __future__ import annotations

from datetime import datetime

from decision.conditions import facts
from decision.conditions.facts import NO_SEGMENT, UserSegment
from decision.domain import Request
from decision.tiers.rules.compiled import CompiledRuleset
from decision.tiers.rules.engine import ENGINE, Loaded
from decision.tiers.rules.outcome import RuleOutcome


class ActiveRuleset:
    """One ruleset version, registered in the engine under its own versioned name."""

    def __init__(self, compiled: CompiledRuleset) -> None:
        self.compiled = compiled
        self.chunks: list[Loaded] = []
        try:
            for definition in compiled.definitions:
                self.chunks.append(ENGINE.load(self.name, definition))
        except Exception:
            self.close()
            raise
        # Outcomes are fixed per rule for this version: built once, shared by every request.
        version, digest = compiled.version, compiled.content_hash
        self._no_match = RuleOutcome(version, digest)
        self._outcomes = {
            rule.id: RuleOutcome(version, digest, rule.id, rule.content_ids, rule.parameters) for rule in compiled.rules
        }

    @property
    def name(self) -> str:
        return f"rules@{self.compiled.content_hash[:12]}"

    def event(self, request: Request, now: datetime, user: UserSegment = NO_SEGMENT) -> dict[str, facts.Fact]:
        return facts.build(request, now, self.compiled.slots, user)

    def evaluate(self, request: Request, now: datetime, user: UserSegment = NO_SEGMENT) -> RuleOutcome:
        """Run the engine; the outcome names this version whatever happens elsewhere.

        Raises RetiredError if this version was unloaded meanwhile (the caller retries).
        """
        rule_id = self.fire(self.event(request, now, user))
        return self._no_match if rule_id is None else self._outcomes[rule_id]

    def fire(self, event: dict[str, facts.Fact]) -> str | None:
        """The winning rule id for an event; chunks hold the best rules first."""
        for chunk in self.chunks:
            rule_id = ENGINE.fire(chunk, event)
            if rule_id is not None:
                return rule_id
        return None

    def close(self) -> None:
        for chunk in self.chunks:
            ENGINE.unload(chunk)
