"""The per-request context every tier reads, built once by the decider.

It holds the validated request, the decision time, the caller's deadline and the result
limit, and looks up lazily, at most once per request, what several tiers may need: the
user's profile (only with personalization consent) and the catalog content eligible for
this placement, region and moment. Lazily, because a request a rule answers needs
neither. Each shared value is read from its source once, so a swap of the catalog or
the profiles mid-request never mixes two versions into one decision.

Tiers that pass may `carry` provenance forward (the rules tier carries the ruleset it
evaluated), which the decider merges into whichever tier answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple, Protocol

from decision.domain import FallbackReason, Provenance, Request, Segment
from decision.sources.catalog import Catalog, CatalogSource
from decision.sources.features import Profile
from decision.sources.profiles import ProfileSource

_UNSET: object = object()
_NOTHING_ELIGIBLE: frozenset[str] = frozenset()
NOTHING_CARRIED = Provenance()


class SegmentSource(Protocol):
    """Which segment a profile belongs to now (None: no segment model loaded)."""

    def assign(self, profile: Profile | None, now: datetime) -> Segment | None: ...


class NoSegments:
    """The segment source of a service without a segment model: nobody has a segment."""

    def assign(self, profile: Profile | None, now: datetime) -> Segment | None:
        return None


class Sources(NamedTuple):
    """The data sources shared by every tier (swapped whole in the background)."""

    catalog: CatalogSource
    profiles: ProfileSource
    segments: SegmentSource = NoSegments()


class RequestContext:
    """One request on its way through the tiers (not shared between threads)."""

    __slots__ = (
        "_catalog",
        "_eligible",
        "_profile",
        "_segment",
        "_sources",
        "carried",
        "deadline",
        "features",
        "limit",
        "now",
        "reasons",
        "request",
    )

    def __init__(self, request: Request, now: datetime, deadline: float | None, limit: int, sources: Sources) -> None:
        self.request = request
        self.now = now
        #: the caller's deadline on the time.perf_counter() clock, None for none
        self.deadline = deadline
        #: how many items the answer may hold
        self.limit = limit
        #: why each earlier tier passed, in tier order
        self.reasons: list[FallbackReason] = []
        #: provenance of tiers that passed but evaluated something worth reporting
        self.carried = NOTHING_CARRIED
        #: the feature-set version a scoring tier built its rows with ("" if none scored)
        self.features = ""
        self._sources = sources
        self._profile: object = _UNSET
        self._segment: object = _UNSET
        self._catalog: object = _UNSET
        self._eligible: frozenset[str] | None = None

    @property
    def profile(self) -> Profile | None:
        """The user's profile; None without consent or for a user the profiles do not know."""
        profile = self._profile
        if profile is _UNSET:
            request = self.request
            profile = self._profile = self._sources.profiles.get(request.user_id) if request.consent else None
        return profile  # type: ignore[return-value]

    @property
    def segment(self) -> Segment | None:
        """The user's segment now (from the profile; None without one or without consent)."""
        segment = self._segment
        if segment is _UNSET:
            segment = self._segment = self._sources.segments.assign(self.profile, self.now)
        return segment  # type: ignore[return-value]

    def segment_of(self) -> Segment | None:
        """`segment` as a call (for conditions, which ask only when a rule uses a user field)."""
        return self.segment

    @property
    def segment_if_assigned(self) -> Segment | None:
        """The segment if a tier asked for it (for the decision log, which must not compute it)."""
        segment = self._segment
        return None if segment is _UNSET else segment  # type: ignore[return-value]

    @property
    def catalog(self) -> Catalog | None:
        """The catalog as of this request (None until one is loaded)."""
        catalog = self._catalog
        if catalog is _UNSET:
            catalog = self._catalog = self._sources.catalog.current
        return catalog  # type: ignore[return-value]

    @property
    def eligible(self) -> frozenset[str]:
        """Catalog content that may be shown in this placement and region now, before the
        request's own `exclude_content_ids` (the same set object for every request of one
        placement, region and stretch of time, so tiers can cache by it)."""
        eligible = self._eligible
        if eligible is None:
            catalog = self.catalog
            request = self.request
            eligible = self._eligible = (
                catalog.eligible(request.placement, request.context.region, self.now)
                if catalog is not None
                else _NOTHING_ELIGIBLE
            )
        return eligible

    @property
    def profile_if_looked_up(self) -> Profile | None:
        """The profile if a tier asked for it (for the decision log, which must not look it up)."""
        profile = self._profile
        return None if profile is _UNSET else profile  # type: ignore[return-value]

    @property
    def eligible_if_computed(self) -> frozenset[str] | None:
        """The eligible content if a tier asked for it, else None."""
        return self._eligible

    def carry(self, provenance: Provenance) -> None:
        """Report what a passing tier evaluated; merged into the answering tier's provenance."""
        self.carried = provenance if self.carried is NOTHING_CARRIED else merge(provenance, self.carried)


def merge(own: Provenance, carried: Provenance) -> Provenance:
    """Field by field, the answering tier's value where it set one, else the carried one."""
    details = {**carried.details, **own.details} if carried.details else own.details
    return Provenance(
        own.ruleset_version or carried.ruleset_version,
        own.ruleset_hash or carried.ruleset_hash,
        own.rule_id or carried.rule_id,
        own.model_name or carried.model_name,
        own.model_version or carried.model_version,
        own.fallback_reasons or carried.fallback_reasons,
        own.tier or carried.tier,
        details,
        own.experiment_id or carried.experiment_id,
        own.experiment_version or carried.experiment_version,
        own.experiment_hash or carried.experiment_hash,
        own.arm or carried.arm,
        own.arm_probability or carried.arm_probability,
    )
