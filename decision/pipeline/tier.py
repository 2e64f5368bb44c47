"""The interfaces the decider calls: a rule tier and a model tier.

Each tier is optional and may fail; the decider turns failures into fallbacks.
Tiers see domain objects only, never gRPC.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import NamedTuple, Protocol

from decision.domain import NO_PARAMETERS, Request


class RuleOutcome(NamedTuple):
    """What the rule tier concluded for one request.

    `rule_id` is None when the ruleset was evaluated and no rule matched.
    """

    ruleset_version: str
    ruleset_hash: str
    rule_id: str | None = None
    content_ids: tuple[str, ...] = ()
    parameters: Mapping[str, str] = NO_PARAMETERS


class ScoredContent(NamedTuple):
    """One content id with the model's score, in [0, 1] and finite."""

    content_id: str
    score: float


class ModelOutcome(NamedTuple):
    """The model's ranking, best first, already filtered for eligibility."""

    model_name: str
    model_version: str
    ranked: tuple[ScoredContent, ...]


class RuleTier(Protocol):
    """Evaluates the active ruleset; None means no ruleset is loaded."""

    def evaluate(self, request: Request, now: datetime) -> RuleOutcome | None: ...


class ModelTier(Protocol):
    """Ranks eligible content; None means no model is loaded.

    Must not return content in `request.exclude_content_ids`.
    """

    def rank(self, request: Request, now: datetime, limit: int) -> ModelOutcome | None: ...
