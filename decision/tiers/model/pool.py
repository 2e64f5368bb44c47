"""The models the service keeps loaded, one per registry alias, and ranking with any of them.

The model tier ranks with `model_name@model_alias` (the champion); an experiment may compare it
with other aliases (a challenger). Each followed alias has its own ModelStore (background
poller, load check, compiled scorer, hot swap), so a challenger is loaded, checked and
compiled exactly as the champion is. Aliases are followed on request and dropped when no
tier asks for them any more; `max_aliases` bounds the memory (each loaded model costs its
trees twice: LightGBM's and the compiled one).
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import numpy as np

from decision.domain import FallbackReason, Item, Provenance, Source
from decision.pipeline.context import RequestContext
from decision.pipeline.tier import Answer, TierResult
from decision.settings import Settings
from decision.sources.features import FEATURE_NAMES, FEATURE_SET_VERSION, write_row
from decision.tiers.model.ranker import Ranker
from decision.tiers.model.registry import RegistryClient
from decision.tiers.model.store import ModelStore

log = logging.getLogger(__name__)

#: Draws up to k items from every eligible (content id, score), best first: (content id, score, probability).
Explorer = Callable[[Sequence[tuple[str, float]], int], list[tuple[str, float, float]]]

# (model version, eligible ids) -> class indices; eligibility sets are few
# (placement x region x active window), so the cache stays small.
_CACHE_LIMIT = 1024


class AliasModel:
    """One followed alias: its store and the ranking done with whatever version it serves."""

    def __init__(self, store: ModelStore) -> None:
        self.store = store
        self._eligible: dict[tuple[str, frozenset[str]], np.ndarray] = {}

    def rank(self, context: RequestContext, explore: Explorer | None = None) -> TierResult:
        """Features -> predict -> eligible top-k, best first; the version is read once per request.

        With `explore`, the k items are drawn from every eligible one (best first) instead,
        each with the probability it was drawn with.
        """
        model = self.store.current
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
        provenance = Provenance(model_name=model.name, model_version=model.version)
        if explore is not None:
            drawn = explore(ranker.top_k(probabilities, indices, len(indices)), context.limit)
            if not drawn:
                return FallbackReason.NO_ELIGIBLE_CONTENT
            items = tuple([Item(c, score, rank, probability=p) for rank, (c, score, p) in enumerate(drawn, 1)])
            return Answer(Source.MODEL, items, provenance)
        ranked = ranker.top_k(probabilities, indices, context.limit)
        if not ranked:
            return FallbackReason.NO_ELIGIBLE_CONTENT
        items = tuple([Item(content_id, score, rank) for rank, (content_id, score) in enumerate(ranked, 1)])
        return Answer(Source.MODEL, items, provenance)

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


class ModelPool:
    """The AliasRanking of the service: follows aliases on request, at most `max_aliases` at once."""

    def __init__(self, make_store: Callable[[str], ModelStore], max_aliases: int) -> None:
        self._make_store = make_store
        self._max = max_aliases
        self._models: dict[str, AliasModel] = {}
        self._wanted: dict[str, frozenset[str]] = {}  # owner -> aliases it asked for
        self._lock = threading.Lock()
        self._started = False

    def follow(self, owner: str, aliases: Collection[str]) -> None:
        """Load what `owner` now asks for and drop what nobody asks for any more.

        Aliases beyond `max_aliases` are refused with an error log: ranking with them then
        passes (NO_MODEL) instead of loading an unbounded number of models.
        """
        with self._lock:
            self._wanted[owner] = frozenset(aliases)
            wanted = sorted(set().union(*self._wanted.values()))
            keep = wanted[: self._max]
            if len(wanted) > self._max:
                log.error(
                    "model pool: %d aliases asked for, at most %d are loaded; not loading %s",
                    len(wanted),
                    self._max,
                    ", ".join(wanted[self._max :]),
                )
            dropped = [alias for alias in self._models if alias not in keep]
            for alias in keep:
                if alias not in self._models:
                    self._models[alias] = AliasModel(self._make_store(alias))
                    if self._started:
                        self._models[alias].store.start()
            stopped = [self._models.pop(alias) for alias in dropped]
        for model in stopped:
            _stop(model.store)

    def rank(self, alias: str, context: RequestContext, explore: Explorer | None = None) -> TierResult:
        model = self._models.get(alias)
        return FallbackReason.NO_MODEL if model is None else model.rank(context, explore)

    def store(self, alias: str) -> ModelStore | None:
        """The store serving `alias`, if it is followed (for status and tests)."""
        model = self._models.get(alias)
        return model.store if model is not None else None

    def start(self) -> None:
        with self._lock:
            self._started = True
            models = list(self._models.values())
        for model in models:
            model.store.start()

    def stop(self) -> None:
        with self._lock:
            self._started = False
            models = list(self._models.values())
            self._models.clear()
        for model in models:
            _stop(model.store)


def _stop(store: ModelStore) -> None:
    store.stop()
    shutil.rmtree(store.cache_dir, ignore_errors=True)


def pool_from_settings(settings: Settings) -> ModelPool:
    """The service's pool: every alias of `settings.model_name`, downloads per process and alias."""
    # One download folder per process and alias: processes sharing a port (--processes N) and
    # aliases prune their own old downloads, never another's fresh one.
    _remove_stale_caches(settings.model_cache_dir)
    process_dir = settings.model_cache_dir / f"process-{os.getpid()}"

    def make_store(alias: str) -> ModelStore:
        return ModelStore(
            RegistryClient(settings.tracking_uri, settings.registry_timeout_seconds),
            settings.model_name,
            alias,
            FEATURE_SET_VERSION,
            FEATURE_NAMES,
            settings.model_poll_seconds,
            process_dir / alias,
            settings.load_check_timeout_seconds,
            settings.model_compile_timeout_seconds,
        )

    return ModelPool(make_store, settings.max_model_aliases)


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
