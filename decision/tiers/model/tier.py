"""The model tier: the champion model ranks the catalog content eligible for a request.

It ranks with `model_name@model_alias` from the shared model pool, which reads the serving
version once per request and takes the profile and the eligible content from the request
context, so a swap of any of them never mixes into a request already under way. The model
scores the request's candidates, one feature row each (decision/tiers/model/pool.py). Until a
model loads, or while the profile snapshot was written for another feature spec layout than
the model's, it passes with NO_MODEL (a degraded state, not an outage: the service is ready
without it). A placement configured in `model_exploration` draws its items from the ranked
candidates instead of taking the top k (decision/tiers/model/explore.py), and each item logs
its probability.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from functools import partial

from decision.domain import FallbackReason
from decision.pipeline.context import RequestContext
from decision.pipeline.tier import TierEnvironment, TierResult
from decision.tiers.model.explore import Exploration, explorations
from decision.tiers.model.pool import Explorer, ModelPool
from decision.tiers.model.store import ModelStore

#: Below this much time left before the caller's deadline, the tier is skipped: the default is instant.
MIN_BUDGET_SECONDS = 0.002


class ModelTier:
    """Ranks with the followed alias's model (the champion, by default)."""

    error_reason = FallbackReason.MODEL_ERROR
    min_budget_seconds = MIN_BUDGET_SECONDS

    def __init__(
        self,
        pool: ModelPool,
        alias: str,
        name: str = "model",
        exploration: Mapping[str, Exploration] | None = None,
    ) -> None:
        self.name = name
        self.alias = alias
        self._pool = pool
        rng = random.Random()
        self._explorers: dict[str, Explorer] = {
            placement: partial(how.choose, rng=rng) for placement, how in (exploration or {}).items()
        }

    @property
    def models(self) -> ModelStore:
        """The store serving this tier's alias (following starts at `start`)."""
        store = self._pool.store(self.alias)
        if store is None:
            raise RuntimeError(f"model tier {self.name}: alias {self.alias} is not followed (start the tier first)")
        return store

    def decide(self, context: RequestContext) -> TierResult:
        return self._pool.rank(self.alias, context, self._explorers.get(context.request.placement))

    def start(self, ready: Callable[[], None]) -> None:
        """Follow the alias in the background; ready at once (no model = later tiers answer)."""
        self._pool.follow(self.name, (self.alias,))
        ready()

    def stop(self) -> None:
        self._pool.follow(self.name, ())


def build(env: TierEnvironment) -> ModelTier:
    """The `model` entry of the `tiers` setting: `model_name@model_alias` from the registry."""
    if not isinstance(env.models, ModelPool):
        raise TypeError(f"the model tier needs the service's ModelPool, got {type(env.models).__name__}")
    settings = env.settings
    unknown = sorted(set(settings.model_exploration) - set(settings.placements))
    if unknown:
        raise ValueError(
            f"model_exploration names placement(s) {', '.join(unknown)} that are not configured "
            f"(placements: {', '.join(sorted(settings.placements))})"
        )
    exploration = explorations(settings.model_exploration, "model_exploration")
    return ModelTier(env.models, settings.model_alias, env.name, exploration)
