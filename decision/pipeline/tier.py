"""The Tier protocol: what every step of the pipeline implements and what it returns.

A tier either answers (`Answer`: items, the source, its own provenance) or passes by
returning the `FallbackReason` it passes with, so a pass always says why. The decider
adds what the pipeline knows (the reasons of earlier tiers, what they evaluated, the
tier's configured name) to the answer's provenance; tiers see domain objects only.

A tier is built by a factory named in the `tiers` setting (`module:function`), called
with a `TierEnvironment`; it may also own background work (`start`/`stop`, see
`Lifecycle`) and hold readiness until it can answer correctly (the rules tier waits for
its first ruleset: answering without it would skip legal exclusions).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple, Protocol, runtime_checkable

from decision.domain import Decision, FallbackReason, Item, Outcome, Provenance, Source
from decision.settings import Settings

if TYPE_CHECKING:
    from decision.pipeline.context import RequestContext, Sources


class Answer(NamedTuple):
    """A tier's decision: what to show, who decided, and the tier's own provenance."""

    source: Source
    items: tuple[Item, ...]
    provenance: Provenance = Provenance()


TierResult = Answer | FallbackReason


class Tier(Protocol):
    """One step of the pipeline.

    `name` is the configured name (it appears in every provenance this tier produces);
    `error_reason` is reported when `decide` raises; the tier is skipped with reason
    DEADLINE when less than `min_budget_seconds` of the caller's deadline is left.
    """

    name: str
    error_reason: FallbackReason
    min_budget_seconds: float

    def decide(self, context: RequestContext) -> TierResult: ...


@runtime_checkable
class Lifecycle(Protocol):
    """Optional: a tier with background work (file watchers, registry pollers)."""

    def start(self, ready: Callable[[], None]) -> None:
        """Start background work; call `ready` once the tier can answer correctly."""
        ...

    def stop(self) -> None: ...


@runtime_checkable
class DecisionObserver(Protocol):
    """Optional: a tier that learns from its own decisions (a bandit records exposures).

    Called on the request thread after the answer is built: must be quick and must not raise.
    """

    def on_decision(self, decision: Decision, context: RequestContext) -> None: ...


@runtime_checkable
class OutcomeObserver(Protocol):
    """Optional: a tier that learns from reported outcomes (a bandit counts rewards).

    Called on the ReportOutcome thread for every accepted, non-duplicate outcome: must be quick.
    """

    def on_outcome(self, outcome: Outcome, received_at: datetime) -> None: ...


class AliasRanking(Protocol):
    """Ranking with the model a registry alias names, for tiers that compare models (experiment
    arms: champion vs challenger). Provided by the model tier's package, wired by the runtime,
    so tiers that use it never import the model tier."""

    def follow(self, owner: str, aliases: Collection[str]) -> None:
        """Keep the models of `aliases` loaded for `owner` (replacing what it asked for before)."""
        ...

    def rank(self, alias: str, context: RequestContext) -> TierResult:
        """The eligible content ranked by `alias`'s model, or the reason it cannot answer."""
        ...


class TierEnvironment(NamedTuple):
    """What a tier factory gets: its configured name, the settings, the shared sources and the
    model pool (shared by every tier that ranks with a registered model)."""

    name: str
    settings: Settings
    sources: Sources
    models: AliasRanking


TierFactory = Callable[[TierEnvironment], Tier]
