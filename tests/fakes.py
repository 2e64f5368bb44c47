"""Fakes that implement the real interfaces (Tier, the sources), for pipeline and degradation tests."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

from decision.domain import FallbackReason, Item, Provenance, Source
from decision.feedback.outcomes import OutcomeRecorder
from decision.pipeline.context import RequestContext, Sources
from decision.pipeline.decider import UTC_NOW, Decider, DecisionSink
from decision.pipeline.default import DefaultContent
from decision.pipeline.tier import Answer, Tier, TierResult
from decision.runtime.server import RunningServer, build_server
from decision.settings import DEFAULT_PLACEMENTS, Settings
from decision.sources.catalog import Catalog
from decision.sources.features import Profile
from decision.sources.live import LiveProfiles, LocalProfiles
from decision.sources.profiles import ProfileStore


class FixedCatalog:
    """A CatalogSource holding one catalog (or none)."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        self.current = catalog


class FixedProfiles:
    """A ProfileSource over a dict, counting lookups."""

    def __init__(self, profiles: Mapping[str, Profile] | None = None) -> None:
        self.profiles = dict(profiles or {})
        self.lookups = 0

    def get(self, user_id: str) -> Profile | None:
        self.lookups += 1
        return self.profiles.get(user_id)


NO_PROVENANCE = Provenance()


def no_sources() -> Sources:
    return Sources(FixedCatalog(), FixedProfiles())


class FixedTier:
    """Answers with fixed content (or passes with a fixed reason); records the contexts it saw."""

    error_reason = FallbackReason.TIER_ERROR
    min_budget_seconds = 0.0

    def __init__(
        self,
        name: str,
        content: Sequence[str] = (),
        source: Source = Source.MODEL,
        passes: FallbackReason | None = None,
        provenance: Provenance = NO_PROVENANCE,
        carries: Provenance | None = None,
    ) -> None:
        self.name = name
        self.content = tuple(content)
        self.source = source
        self.passes = passes
        self.provenance = provenance
        self.carries = carries
        self.seen: list[RequestContext] = []

    def decide(self, context: RequestContext) -> TierResult:
        self.seen.append(context)
        if self.carries is not None:
            context.carry(self.carries)
        if self.passes is not None:
            return self.passes
        kept = [c for c in self.content if c not in context.request.exclude_content_ids][: context.limit]
        items = tuple([Item(c, 0.5, rank) for rank, c in enumerate(kept, 1)])
        return Answer(self.source, items, self.provenance)


class FailingTier:
    """A tier whose every call raises, with a PII canary in the text."""

    min_budget_seconds = 0.0

    def __init__(self, name: str, error_reason: FallbackReason = FallbackReason.TIER_ERROR) -> None:
        self.name = name
        self.error_reason = error_reason

    def decide(self, context: RequestContext) -> TierResult:
        raise RuntimeError(f"{self.name} exploded for {context.request.user_id}")


class BlockingTier:
    """A model-like tier that waits until released, to hold calls in flight."""

    error_reason = FallbackReason.MODEL_ERROR
    min_budget_seconds = 0.0

    def __init__(self, name: str = "model") -> None:
        self.name = name
        self.entered = threading.Event()
        self.release = threading.Event()

    def decide(self, context: RequestContext) -> TierResult:
        self.entered.set()
        self.release.wait(10)
        return Answer(Source.MODEL, (Item("slow_item", 0.5, 1),), Provenance(model_name="fake", model_version="1"))


def decider(
    *tiers: Tier,
    placements: Mapping[str, Sequence[str]] = DEFAULT_PLACEMENTS,
    sources: Sources | None = None,
    sink: DecisionSink | None = None,
) -> Decider:
    """A Decider over `tiers` followed by the placements' default content."""
    return Decider([*tiers, DefaultContent(placements)], sources or no_sources(), [sink] if sink else [])


class NoSnapshot:
    """A profile snapshot that never loaded."""

    current: ProfileStore | None = None


def memory_profiles() -> LiveProfiles:
    """Live profiles in memory, keyed by the raw id (tests only), with no snapshot."""
    return LiveProfiles(NoSnapshot(), str, LocalProfiles(10_000, 3_600.0), set())


def serve(settings: Settings, decider: Decider) -> RunningServer:
    """A real server around a test decider: outcomes accepted (not logged), profiles in memory."""
    return build_server(settings, decider, OutcomeRecorder(None, UTC_NOW, settings.outcome_types), memory_profiles())
