"""The models the service keeps loaded, one per registry alias, and ranking with any of them.

The model tier ranks with `model_name@model_alias` (the champion); an experiment may compare it
with other aliases (a challenger). Each followed alias has its own ModelStore (background
poller, load check, compiled scorer, hot swap), so a challenger is loaded, checked and
compiled exactly as the champion is. Aliases are followed on request and dropped when no
tier asks for them any more; `max_aliases` bounds the memory (each loaded model costs its
trees twice: LightGBM's and the compiled one).

Ranking with a model: the candidates are the eligible content the model's spec knows, less
what the user engaged with and may not see again and what the request excludes, cut to the
spec's candidate limit (decision/sources/candidates.py); each gets one feature row and one
score; an item's score in the answer is its softmax share over the candidates' scores, the
model's probability that it is the one chosen among them. A model does not score while the
profile snapshot was written for another feature spec layout than its own (NO_MODEL).
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from decision.domain import FallbackReason, Item, Provenance, Source
from decision.pipeline.context import RequestContext
from decision.pipeline.tier import Answer, TierResult
from decision.settings import Settings
from decision.sources.candidates import stage_order, take
from decision.sources.feature_spec import FeatureSpec
from decision.sources.features import FEATURE_NAMES, FEATURE_SET_VERSION, Profile, request_excluded, row_buffer, view
from decision.tiers.model.ranker import best
from decision.tiers.model.registry import RegistryClient
from decision.tiers.model.store import ModelStore

log = logging.getLogger(__name__)

#: Draws up to k items from every candidate (content id, score), best first: (content id, score, probability).
Explorer = Callable[[Sequence[tuple[str, float]], int], list[tuple[str, float, float]]]
#: The feature spec layout the current profile snapshot was written for (None: no snapshot).
SnapshotLayout = Callable[[], str | None]

# (model version, eligible ids) -> candidate stage; eligibility sets are few
# (placement x region x active window), so the cache stays small.
_CACHE_LIMIT = 1024


class _Stage(NamedTuple):
    """An eligible set's spec items in candidate-stage order, and the first `candidate_limit`
    of them as a list and as the array the feature rows take."""

    order: list[int]
    first: list[int]
    first_array: np.ndarray


class AliasModel:
    """One followed alias: its store and the ranking done with whatever version it serves."""

    def __init__(self, store: ModelStore, snapshot_layout: SnapshotLayout = lambda: None) -> None:
        self.store = store
        self._snapshot_layout = snapshot_layout
        self._stages: dict[tuple[str, frozenset[str]], _Stage] = {}
        self._mismatch_logged: tuple[str, str] | None = None

    def rank(self, context: RequestContext, explore: Explorer | None = None) -> TierResult:
        """Candidates -> feature rows -> scores -> the best k, best first; the version is read once
        per request.

        With `explore`, the k items are drawn from every candidate (best first) instead, each
        with the probability it was drawn with: content outside the candidate stage is never
        drawn (probability 0).
        """
        model = self.store.current
        if model is None or context.catalog is None:
            return FallbackReason.NO_MODEL
        ranker = model.ranker
        spec = ranker.spec
        if not self._layout_matches(model.name, model.version, spec.layout):
            return FallbackReason.NO_MODEL
        request, now, profile = context.request, context.now, context.profile
        context.features = FEATURE_SET_VERSION
        skip = request_excluded(spec, profile, request.exclude_content_ids)
        stage = self._stage(model.version, spec, context.eligible)
        chosen, candidates = _candidates(spec, stage, profile, skip, bool(request.exclude_content_ids))
        if not chosen:
            return FallbackReason.NO_ELIGIBLE_CONTENT
        scores = ranker.scores_of(row_buffer(spec, profile, request, now, candidates, ranker.item_block))
        items = spec.items
        provenance = Provenance(model_name=model.name, model_version=model.version)
        if explore is not None:
            positions, shares = best(scores, len(chosen))
            ranked = [(items[chosen[p]], share) for p, share in zip(positions, shares, strict=True)]
            drawn = explore(ranked, context.limit)
            if not drawn:
                return FallbackReason.NO_ELIGIBLE_CONTENT
            answer = tuple([Item(c, score, rank, probability=p) for rank, (c, score, p) in enumerate(drawn, 1)])
            return Answer(Source.MODEL, answer, provenance)
        positions, shares = best(scores, context.limit)
        answer = tuple(
            [
                Item(items[chosen[p]], share, rank)
                for rank, (p, share) in enumerate(zip(positions, shares, strict=True), 1)
            ]
        )
        return Answer(Source.MODEL, answer, provenance)

    def _stage(self, version: str, spec: FeatureSpec, eligible: frozenset[str]) -> _Stage:
        """The candidate stage of an eligible set (cached per model and eligible set)."""
        key = (version, eligible)
        found = self._stages.get(key)
        if found is None:
            if len(self._stages) >= _CACHE_LIMIT:
                self._stages.clear()
            order = stage_order(spec, spec.stats, eligible)
            first = np.array(order[: spec.candidate_limit], dtype=np.intp)
            first.flags.writeable = False  # shared by every request with this key
            found = self._stages[key] = _Stage(order, order[: spec.candidate_limit], first)
        return found

    def _layout_matches(self, name: str, version: str, layout: str) -> bool:
        """A snapshot written for another spec layout is not scored with this model (logged once)."""
        snapshot = self._snapshot_layout()
        if snapshot is None or snapshot == layout:
            return True
        if self._mismatch_logged != (version, snapshot):
            self._mismatch_logged = (version, snapshot)
            log.warning(
                "model %s v%s was trained for feature spec layout %s, the profile snapshot was written for %s: "
                "it does not rank until both come from one training run",
                name,
                version,
                layout,
                snapshot,
            )
        return False


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


class ModelPool:
    """The AliasRanking of the service: follows aliases on request, at most `max_aliases` at once."""

    def __init__(
        self, make_store: Callable[[str], ModelStore], max_aliases: int, snapshot_layout: SnapshotLayout = lambda: None
    ) -> None:
        self._make_store = make_store
        self._max = max_aliases
        self._snapshot_layout = snapshot_layout
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
                    self._models[alias] = AliasModel(self._make_store(alias), self._snapshot_layout)
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


def pool_from_settings(settings: Settings, snapshot_layout: SnapshotLayout = lambda: None) -> ModelPool:
    """The service's pool: every alias of `settings.model_name`, downloads per process and alias;
    `snapshot_layout` says what the current profile snapshot was written for."""
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

    return ModelPool(make_store, settings.max_model_aliases, snapshot_layout)


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
