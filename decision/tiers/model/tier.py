"""The model tier: the champion model ranks the catalog content eligible for a request.

It reads the serving model once per request and takes the profile and the eligible
content from the request context, so a swap of any of them never mixes into a request
already under way. The candidates are the eligible content the model's spec knows, less
what the user engaged with and may not see again and what the request excludes, cut to
the spec's candidate limit (decision/sources/candidates.py); each gets one feature row
and one score; an item's score in the answer is its softmax over the candidates' scores,
the model's probability that it is the one chosen among them. Until a model loads it
passes with NO_MODEL (a degraded state, not an outage: the service is ready without it),
and also while the profile snapshot was written for another feature spec layout than the
model's.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from decision.domain import FallbackReason, Item, Provenance, Source
from decision.pipeline.context import RequestContext
from decision.pipeline.tier import Answer, TierEnvironment, TierResult
from decision.sources.candidates import stage_order, take
from decision.sources.feature_spec import FeatureSpec
from decision.sources.features import FEATURE_NAMES, FEATURE_SET_VERSION, Profile, excluded, rows, view
from decision.sources.profiles import ProfileSource, SnapshotProfiles
from decision.tiers.model.ranker import best
from decision.tiers.model.registry import RegistryClient
from decision.tiers.model.store import ModelStore

logger = logging.getLogger(__name__)

# (model version, eligible ids) -> candidate order; eligibility sets are few
# (placement x region x active window), so the cache stays small.
_CACHE_LIMIT = 1024
#: Below this much time left before the caller's deadline, the tier is skipped: the default is instant.
MIN_BUDGET_SECONDS = 0.002


class _Stage(NamedTuple):
    """An eligible set's spec items in candidate-stage order, and the first `candidate_limit`
    of them as a list and as the array the feature rows take."""

    order: list[int]
    first: list[int]
    first_array: np.ndarray


class ModelTier:
    """Candidates -> feature rows -> scores -> the best k, best first."""

    error_reason = FallbackReason.MODEL_ERROR
    min_budget_seconds = MIN_BUDGET_SECONDS

    def __init__(
        self, models: ModelStore, name: str = "model", snapshot_layout: Callable[[], str | None] = lambda: None
    ) -> None:
        self.name = name
        self.models = models
        self._snapshot_layout = snapshot_layout
        self._ordered: dict[tuple[str, frozenset[str]], _Stage] = {}
        self._mismatch_logged: tuple[str, str] | None = None

    def decide(self, context: RequestContext) -> TierResult:
        model = self.models.current
        if model is None or context.catalog is None:
            return FallbackReason.NO_MODEL
        ranker = model.ranker
        spec = ranker.spec
        if not self._layout_matches(model.version, spec.layout):
            return FallbackReason.NO_MODEL
        request, now, profile = context.request, context.now, context.profile
        context.features = FEATURE_SET_VERSION
        skip = excluded(spec, profile)
        if request.exclude_content_ids:
            index = spec.item_index
            skip = skip.union(index[c] for c in request.exclude_content_ids if c in index)
        stage = self._stage(model.version, spec, context.eligible)
        chosen, candidates = _candidates(spec, stage, profile, skip, bool(request.exclude_content_ids))
        if not chosen:
            return FallbackReason.NO_ELIGIBLE_CONTENT
        block = ranker.item_block
        scores = ranker.scores(rows(spec, spec.stats, profile, request, now, candidates, block, cache=True))
        positions, shares = best(scores, context.limit)
        items = spec.items
        answer = tuple(
            [
                Item(items[chosen[p]], share, rank)
                for rank, (p, share) in enumerate(zip(positions, shares, strict=True), 1)
            ]
        )
        return Answer(Source.MODEL, answer, Provenance(model_name=model.name, model_version=model.version))

    def _stage(self, version: str, spec: FeatureSpec, eligible: frozenset[str]) -> _Stage:
        """The candidate stage of an eligible set (cached per model and eligible set)."""
        key = (version, eligible)
        found = self._ordered.get(key)
        if found is None:
            if len(self._ordered) >= _CACHE_LIMIT:
                self._ordered.clear()
            order = stage_order(spec, spec.stats, eligible)
            first = np.array(order[: spec.candidate_limit], dtype=np.intp)
            first.flags.writeable = False  # shared by every request with this key
            found = self._ordered[key] = _Stage(order, order[: spec.candidate_limit], first)
        return found

    def _layout_matches(self, version: str, layout: str) -> bool:
        """A snapshot written for another spec layout is not scored with this model (logged once)."""
        snapshot = self._snapshot_layout()
        if snapshot is None or snapshot == layout:
            return True
        if self._mismatch_logged != (version, snapshot):
            self._mismatch_logged = (version, snapshot)
            logger.warning(
                "model v%s was trained for feature spec layout %s, the profile snapshot was written for %s: "
                "the model tier passes until both come from one training run",
                version,
                layout,
                snapshot,
            )
        return False

    def start(self, ready: Callable[[], None]) -> None:
        """Follow the registry alias in the background; ready at once (no model = default answers)."""
        self.models.start()
        ready()

    def stop(self) -> None:
        self.models.stop()
        shutil.rmtree(self.models.cache_dir, ignore_errors=True)


def _candidates(
    spec: FeatureSpec, stage: _Stage, profile: Profile | None, skip: frozenset[int], request_excludes: bool
) -> tuple[list[int], np.ndarray]:
    """This request's candidates as a list and an array. The same array object comes back for
    the same user and stage (kept with the profile's view), so the feature rows can reuse
    what they computed for it; a request's own exclusions make a fresh one."""
    if not skip:
        return stage.first, stage.first_array
    if request_excludes or profile is None:
        chosen = take(stage.order, skip, spec.candidate_limit)
        return chosen, np.array(chosen, dtype=np.intp)
    seen = view(spec, profile)
    cached = seen.stage[0] if seen.stage else None
    if cached is not None and cached[0] is stage:
        return cached[1], cached[2]
    chosen = take(stage.order, skip, spec.candidate_limit)
    candidates = np.array(chosen, dtype=np.intp)
    candidates.flags.writeable = False
    seen.stage[:] = [(stage, chosen, candidates)]
    return chosen, candidates


def build(env: TierEnvironment) -> ModelTier:
    """The `model` entry of the `tiers` setting: `model_name@model_alias` from the registry."""
    settings = env.settings
    # One download folder per process: processes sharing a port (--processes N) prune
    # their own old downloads, never a sibling's fresh one.
    _remove_stale_caches(settings.model_cache_dir)
    store = ModelStore(
        RegistryClient(settings.tracking_uri, settings.registry_timeout_seconds),
        settings.model_name,
        settings.model_alias,
        FEATURE_SET_VERSION,
        FEATURE_NAMES,
        settings.model_poll_seconds,
        settings.model_cache_dir / f"process-{os.getpid()}",
        settings.load_check_timeout_seconds,
        settings.model_compile_timeout_seconds,
    )
    return ModelTier(store, env.name, _layout_of(env.sources.profiles))


def _layout_of(profiles: ProfileSource) -> Callable[[], str | None]:
    """What the current snapshot was written for; a source without a snapshot never mismatches."""
    if isinstance(profiles, SnapshotProfiles):
        return lambda: profiles.spec_layout
    return lambda: None


def _remove_stale_caches(root: Path) -> None:
    """Delete the download folders of processes that are gone (killed, crashed)."""
    for folder in root.glob("process-*"):
        pid = folder.name.removeprefix("process-")
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
