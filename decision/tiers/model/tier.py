"""The model tier: the champion model ranks the catalog content eligible for a request.

It reads the serving model once per request and takes the profile and the eligible
content from the request context, so a swap of any of them never mixes into a request
already under way. Until a model loads it passes with NO_MODEL (a degraded state, not an
outage: the service is ready without it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from decision.domain import FallbackReason, Item, Provenance, Source
from decision.pipeline.context import RequestContext
from decision.pipeline.tier import Answer, TierEnvironment, TierResult
from decision.sources.features import FEATURE_NAMES, FEATURE_SET_VERSION, write_row
from decision.tiers.model.ranker import Ranker
from decision.tiers.model.registry import RegistryClient
from decision.tiers.model.store import ModelStore

# (model version, eligible ids) -> class indices; eligibility sets are few
# (placement x region x active window), so the cache stays small.
_CACHE_LIMIT = 1024
#: Below this much time left before the caller's deadline, the tier is skipped: the default is instant.
MIN_BUDGET_SECONDS = 0.002


class ModelTier:
    """Features -> predict -> eligible top-k, best first."""

    error_reason = FallbackReason.MODEL_ERROR
    min_budget_seconds = MIN_BUDGET_SECONDS

    def __init__(self, models: ModelStore, name: str = "model") -> None:
        self.name = name
        self.models = models
        self._eligible: dict[tuple[str, frozenset[str]], np.ndarray] = {}

    def decide(self, context: RequestContext) -> TierResult:
        model = self.models.current
        if model is None or context.catalog is None:
            return FallbackReason.NO_MODEL
        request, now, profile = context.request, context.now, context.profile
        ranker = model.ranker
        context.features = FEATURE_SET_VERSION
        probabilities = ranker.scores(lambda row: write_row(row, profile, request, now))
        indices = self._eligible_indices(model.version, ranker, context.eligible)
        if request.exclude_content_ids:
            excluded = ranker.eligible_indices(request.exclude_content_ids)
            indices = np.setdiff1d(indices, excluded, assume_unique=True)
        ranked = ranker.top_k(probabilities, indices, context.limit)
        if not ranked:
            return FallbackReason.NO_ELIGIBLE_CONTENT
        items = tuple([Item(content_id, score, rank) for rank, (content_id, score) in enumerate(ranked, 1)])
        return Answer(Source.MODEL, items, Provenance(model_name=model.name, model_version=model.version))

    def _eligible_indices(self, version: str, ranker: Ranker, eligible: frozenset[str]) -> np.ndarray:
        key = (version, eligible)
        indices = self._eligible.get(key)
        if indices is None:
            if len(self._eligible) >= _CACHE_LIMIT:
                self._eligible.clear()
            indices = ranker.eligible_indices(eligible)
            indices.flags.writeable = False  # shared by every request with this key
            self._eligible[key] = indices
        return indices

    def start(self, ready: Callable[[], None]) -> None:
        """Follow the registry alias in the background; ready at once (no model = default answers)."""
        self.models.start()
        ready()

    def stop(self) -> None:
        self.models.stop()
        shutil.rmtree(self.models.cache_dir, ignore_errors=True)


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
    return ModelTier(store, env.name)


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
