"""The service's parts and their lifecycle: sources, tiers, decider, decision log, metrics.

Kept apart from server.py so the parts can be started without gRPC, and so start/stop
order lives in one place.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from decision import metrics
from decision.domain import Outcome
from decision.feedback.decision_log import DecisionLog
from decision.feedback.outcomes import OutcomeLog, OutcomeRecorder
from decision.pipeline.context import Sources
from decision.pipeline.decider import UTC_NOW, Decider, DecisionSink
from decision.pipeline.tier import DecisionObserver, Lifecycle, OutcomeObserver, Tier
from decision.privacy import load_pseudonymizer
from decision.reload import heap
from decision.reload.filewatch import WatchedFile
from decision.runtime.tiers import build_tiers
from decision.settings import Settings
from decision.sources.catalog import Catalog
from decision.sources.features import FEATURE_SET_VERSION
from decision.sources.forgotten import ForgottenFile
from decision.sources.live import LiveProfiles, LocalProfiles, event_of_outcome
from decision.sources.profiles import ProfileStore
from decision.sources.redis_profiles import RedisForgotten, RedisProfiles
from decision.sources.segments import ModelSegments, SegmentModel
from decision.tiers.model.pool import pool_from_settings

log = logging.getLogger(__name__)


class App:
    """Builds the sources, the configured tiers and the Decider; owns their background work."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.catalog = WatchedFile(settings.catalog_path, Catalog.load, "catalog")
        # Profile rows hold user ids: their load errors are logged by type only.
        self.profiles = WatchedFile(settings.profiles_path, load_profiles, "profile snapshot", log_reasons=False)
        secret = settings.user_key.get_secret_value() if settings.user_key else None
        self.pseudonymize = load_pseudonymizer(settings.user_key_path, secret)
        shared = settings.shared_state_url is not None
        self.forgotten: ForgottenFile | RedisForgotten = (
            RedisForgotten.connect(settings) if shared else ForgottenFile(settings.forgotten_path)
        )
        backend = (
            RedisProfiles.connect(settings)
            if shared
            else LocalProfiles(settings.profile_max_users, settings.profile_ttl_seconds)
        )
        self.live = LiveProfiles(self.profiles, self.pseudonymize, backend, self.forgotten)
        self.segment_model = WatchedFile(settings.segments_path, SegmentModel.load, "segment model")
        self.sources = Sources(self.catalog, self.live, ModelSegments(self.segment_model))
        self.models = pool_from_settings(settings)
        self.tiers = build_tiers(settings.tiers, settings, self.sources, self.models)
        self.decision_log = (
            DecisionLog(settings.decision_log_path, self.pseudonymize) if settings.decision_log_path else None
        )
        sinks: list[DecisionSink] = [self.decision_log.record] if self.decision_log else []
        sinks += [tier.on_decision for tier in self.tiers if isinstance(tier, DecisionObserver)]
        self.decider = Decider(self.tiers, self.sources, sinks)
        self.outcome_log = OutcomeLog(settings.outcome_log_path) if settings.outcome_log_path else None
        self.outcomes = OutcomeRecorder(
            self.outcome_log.append if self.outcome_log else None, UTC_NOW, settings.outcome_types
        )
        for tier in self.tiers:
            if isinstance(tier, OutcomeObserver):
                self.outcomes.add_listener(tier.on_outcome)
        self.outcomes.add_listener(self._outcome_to_profile)
        self._metrics_server: WSGIServer | None = None
        self._gc_thresholds: tuple[int, int, int] | None = None  # restored by stop()

    def tier(self, name: str) -> Tier:
        """The configured tier called `name` (KeyError if there is none)."""
        for tier in self.tiers:
            if tier.name == name:
                return tier
        raise KeyError(name)

    def start(self, on_ready: Callable[[], None]) -> None:
        """Start background work; `on_ready` runs once, when every tier has said it is ready.

        The built-in rules tier is ready once its first ruleset is active; a missing model,
        catalog or profile snapshot is a degraded state (answers come from later tiers),
        not an outage. A broken rules folder at start leaves the server NOT_SERVING
        (there is no last good version); its watcher keeps checking, so fixing the files
        makes it ready without a restart.
        """
        heap.watch_pauses()
        self._gc_thresholds = heap.collect_young_less_often()
        for feedback in (self.decision_log, self.outcome_log):
            if feedback is not None:
                feedback.start()
        self.catalog.start()
        self.profiles.start()
        self.segment_model.start()
        self.forgotten.start()
        self._metrics_server = metrics.serve_metrics(self.settings.metrics_port)
        self.models.start()
        readiness = _Readiness(len(self.tiers), on_ready)
        for index, tier in enumerate(self.tiers):
            if isinstance(tier, Lifecycle):
                tier.start(readiness.ready_callback(index))
            else:
                readiness.ready_callback(index)()

    def stop(self) -> None:
        """Stop background work after the server has drained; flush the decision and outcome logs."""
        for tier in reversed(self.tiers):
            if isinstance(tier, Lifecycle):
                tier.stop()
        self.models.stop()
        self.catalog.stop()
        self.profiles.stop()
        self.segment_model.stop()
        self.forgotten.stop()
        for feedback in (self.decision_log, self.outcome_log):
            if feedback is not None:
                feedback.close()
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
        if self._gc_thresholds is not None:
            gc.set_threshold(*self._gc_thresholds)

    def _outcome_to_profile(self, outcome: Outcome, received_at: datetime) -> None:
        """An outcome that names its (consenting) user updates their live profile too."""
        event = event_of_outcome(outcome, received_at, self.catalog.current)
        if event is not None:
            self.live.record((event,))


class _Readiness:
    """Calls `on_ready` once, after each of `count` tiers has reported ready at least once."""

    def __init__(self, count: int, on_ready: Callable[[], None]) -> None:
        self._waiting = set(range(count))
        self._on_ready = on_ready
        self._lock = threading.Lock()
        self._done = False

    def ready_callback(self, index: int) -> Callable[[], None]:
        def ready() -> None:
            with self._lock:
                self._waiting.discard(index)
                if self._waiting or self._done:
                    return
                self._done = True
            self._on_ready()

        return ready


def load_profiles(path: Path) -> ProfileStore:
    """Load a profile snapshot, refusing one built for another feature set."""
    store = ProfileStore.load(path)
    if store.feature_set_version != FEATURE_SET_VERSION:
        raise ValueError(
            f"{path}: built for feature set {store.feature_set_version}, the service computes "
            f"{FEATURE_SET_VERSION}: rerun training"
        )
    return store
