"""A compiled ruleset loaded into the engine: what the store publishes and requests use."""

from __future__ import annotations

from datetime import datetime

from decision.domain import Request
from decision.rules import facts
from decision.rules.compiled import CompiledRuleset
from decision.rules.engine import ENGINE, Loaded
from decision.tiers import RuleOutcome


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
        self._by_id = compiled.by_id

    @property
    def name(self) -> str:
        return f"rules@{self.compiled.content_hash[:12]}"

    def event(self, request: Request, now: datetime) -> dict[str, facts.Fact]:
        return facts.build(request, now, self.compiled.slots)

    def evaluate(self, request: Request, now: datetime) -> RuleOutcome:
        """Run the engine; the outcome names this version whatever happens elsewhere.

        Raises RetiredError if this version was unloaded meanwhile (the caller retries).
        """
        rule_id = self.fire(self.event(request, now))
        version, digest = self.compiled.version, self.compiled.content_hash
        if rule_id is None:
            return RuleOutcome(version, digest)
        rule = self._by_id[rule_id]
        return RuleOutcome(version, digest, rule.id, rule.content_ids, rule.parameters)

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
