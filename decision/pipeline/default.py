"""The last tier: the placement's configured default content. It always answers.

Kept in the pipeline rather than under tiers/ because the decider relies on it: whatever
the earlier tiers do, a valid request gets an answer (possibly with no items, when the
caller excluded every default).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from decision.domain import FallbackReason, Item, Source
from decision.pipeline.context import RequestContext
from decision.pipeline.tier import Answer, TierEnvironment


class DefaultContent:
    """Answers with the placement's default content minus the request's exclusions."""

    error_reason = FallbackReason.TIER_ERROR
    min_budget_seconds = 0.0

    def __init__(self, placements: Mapping[str, Sequence[str]], name: str = "default") -> None:
        self.name = name
        self._defaults = {placement: tuple(content) for placement, content in placements.items()}

    @property
    def placements(self) -> Mapping[str, tuple[str, ...]]:
        """Configured placements and their default content."""
        return self._defaults

    def decide(self, context: RequestContext) -> Answer:
        request = context.request
        excluded = request.exclude_content_ids
        content = [c for c in self._defaults.get(request.placement, ()) if c not in excluded][: context.limit]
        return Answer(Source.DEFAULT, tuple([Item(c, 0.0, rank) for rank, c in enumerate(content, 1)]))


def build(env: TierEnvironment) -> DefaultContent:
    """The `default` entry of the `tiers` setting."""
    return DefaultContent(env.settings.placements, env.name)
