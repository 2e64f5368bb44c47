"""Fakes that implement the real tier interfaces, for degradation tests."""

from __future__ import annotations

import threading
from datetime import datetime

from decision.domain import Request
from decision.pipeline.tier import ModelOutcome, RuleOutcome, ScoredContent


class FailingTier:
    """A rule and model tier whose every call raises, with a PII canary in the text."""

    def evaluate(self, request: Request, now: datetime) -> RuleOutcome | None:
        raise RuntimeError(f"rules exploded for {request.user_id}")

    def rank(self, request: Request, now: datetime, limit: int) -> ModelOutcome | None:
        raise RuntimeError(f"model exploded for {request.user_id}")


class BlockingModel:
    """A model tier that waits until released, to hold calls in flight."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def rank(self, request: Request, now: datetime, limit: int) -> ModelOutcome | None:
        self.entered.set()
        self.release.wait(10)
        return ModelOutcome("fake", "1", (ScoredContent("slow_item", 0.5),))


class FixedRules:
    """A rule tier that always returns the same outcome."""

    def __init__(self, outcome: RuleOutcome | None) -> None:
        self.outcome = outcome

    def evaluate(self, request: Request, now: datetime) -> RuleOutcome | None:
        return self.outcome


class FixedModel:
    """A model tier that ranks a fixed list, honouring exclusions like the real one."""

    def __init__(self, ranked: list[tuple[str, float]]) -> None:
        self.ranked = ranked

    def rank(self, request: Request, now: datetime, limit: int) -> ModelOutcome | None:
        kept = [ScoredContent(c, s) for c, s in self.ranked if c not in request.exclude_content_ids]
        return ModelOutcome("nbc", "7", tuple(kept[:limit]))
