"""ModelRanking: the champion model ranks the catalog content eligible for a request.

This is the ModelTier the decider calls when no rule decides. It reads three
independently swapped values once per request (model, catalog, profiles), so a
swap of any of them never mixes into a request already under way.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from decision.domain import Request
from decision.pipeline.tier import ModelOutcome, ScoredContent
from decision.reload.filewatch import WatchedFile
from decision.sources.catalog import Catalog
from decision.sources.features import write_row
from decision.sources.profiles import ProfileStore
from decision.tiers.model.ranker import Ranker
from decision.tiers.model.store import ModelStore

# (model version, eligible ids) -> class indices; eligibility sets are few
# (placement x region x active window), so the cache stays small.
_CACHE_LIMIT = 1024


class ModelRanking:
    """Features -> predict -> eligible top-k; None when no model or no catalog is loaded."""

    def __init__(
        self,
        models: ModelStore,
        catalog: WatchedFile[Catalog],
        profiles: WatchedFile[ProfileStore],
    ) -> None:
        self._models = models
        self._catalog = catalog
        self._profiles = profiles
        self._eligible: dict[tuple[str, frozenset[str]], np.ndarray] = {}

    def rank(self, request: Request, now: datetime, limit: int) -> ModelOutcome | None:
        model = self._models.current
        catalog = self._catalog.current
        if model is None or catalog is None:
            return None
        profile = None
        if request.consent:  # without consent, no user-level data is used: context only
            profiles = self._profiles.current
            profile = profiles.get(request.user_id) if profiles is not None else None
        probabilities = model.ranker.scores(lambda row: write_row(row, profile, request, now))
        eligible = catalog.eligible(request.placement, request.context.region, now)
        indices = self._eligible_indices(model.version, model.ranker, eligible)
        if request.exclude_content_ids:
            excluded = model.ranker.eligible_indices(request.exclude_content_ids)
            indices = np.setdiff1d(indices, excluded, assume_unique=True)
        ranked = model.ranker.top_k(probabilities, indices, limit)
        return ModelOutcome(model.name, model.version, tuple([ScoredContent(c, s) for c, s in ranked]))

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
