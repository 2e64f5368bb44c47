"""The service's parts and their lifecycle: decider, tiers, background workers.

Kept apart from server.py so the parts can be started without gRPC and so
start/stop order lives in one place.
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from decision import metrics
from decision.feedback.decision_log import DecisionLog
from decision.pipeline.decider import Decider
from decision.reload import heap
from decision.reload.filewatch import WatchedFile
from decision.settings import Settings
from decision.sources.catalog import Catalog
from decision.sources.features import FEATURE_NAMES, FEATURE_SET_VERSION
from decision.sources.profiles import ProfileStore
from decision.tiers.model.registry import RegistryClient
from decision.tiers.model.store import ModelStore
from decision.tiers.model.tier import ModelRanking
from decision.tiers.rules.errors import RuleFileError
from decision.tiers.rules.store import RulesetStore

log = logging.getLogger(__name__)


class App:
    """Builds the Decider and its tiers from settings; owns their background work."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rules = RulesetStore(settings.rules_path, settings.rules_poll_seconds)
        # One download folder per process: processes sharing a port (--processes N) prune
        # their own old downloads, never a sibling's fresh one.
        _remove_stale_caches(settings.model_cache_dir)
        self._model_cache = settings.model_cache_dir / f"process-{os.getpid()}"
        self._metrics_server: WSGIServer | None = None
        self._gc_thresholds: tuple[int, int, int] | None = None  # restored by stop()
        self.models = ModelStore(
            RegistryClient(settings.tracking_uri, settings.registry_timeout_seconds),
            settings.model_name,
            settings.model_alias,
            FEATURE_SET_VERSION,
            FEATURE_NAMES,
            settings.model_poll_seconds,
            self._model_cache,
            settings.load_check_timeout_seconds,
            settings.model_compile_timeout_seconds,
        )
        self.catalog = WatchedFile(settings.catalog_path, Catalog.load, "catalog")
        # Profile rows hold user ids: their load errors are logged by type only.
        self.profiles = WatchedFile(settings.profiles_path, load_profiles, "profile snapshot", log_reasons=False)
        self.decision_log = DecisionLog(settings.decision_log_path) if settings.decision_log_path else None
        self.model_tier = ModelRanking(self.models, self.catalog, self.profiles)
        self.decider = Decider(
            settings.placements,
            rules=self.rules,
            model=self.model_tier,
            sink=self.decision_log.append if self.decision_log else None,
        )

    def start(self, on_ready: Callable[[], None]) -> None:
        """Start background work; `on_ready` runs once, when the first ruleset is active.

        Readiness waits for the rules only: a missing model, catalog or profile
        snapshot is a degraded state (answers come from the default), not an
        outage. A broken rules folder at start leaves the server NOT_SERVING
        (there is no last good version); the watcher keeps checking, so fixing
        the files makes it ready without a restart.
        """
        heap.watch_pauses()
        self._gc_thresholds = heap.collect_young_less_often()
        if self.decision_log is not None:
            self.decision_log.start()
        self.catalog.start()
        self.profiles.start()
        self.models.start()
        self._metrics_server = metrics.serve_metrics(self.settings.metrics_port)
        self.rules.add_listener(_once(on_ready))
        try:
            self.rules.load_initial()
        except RuleFileError as exc:
            log.error("no valid ruleset in %s; NOT_SERVING until it is fixed:\n%s", self.settings.rules_path, exc)
        self.rules.start()

    def stop(self) -> None:
        """Stop background work after the server has drained; flush the decision log."""
        self.rules.stop()
        self.models.stop()
        self.catalog.stop()
        self.profiles.stop()
        if self.decision_log is not None:
            self.decision_log.close()
        shutil.rmtree(self._model_cache, ignore_errors=True)
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
        if self._gc_thresholds is not None:
            gc.set_threshold(*self._gc_thresholds)


def load_profiles(path: Path) -> ProfileStore:
    """Load a profile snapshot, refusing one built for another feature set."""
    store = ProfileStore.load(path)
    if store.feature_set_version != FEATURE_SET_VERSION:
        raise ValueError(
            f"{path}: built for feature set {store.feature_set_version}, the service computes "
            f"{FEATURE_SET_VERSION}: rerun training"
        )
    return store


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


def _once(callback: Callable[[], None]) -> Callable[[], None]:
    lock = threading.Lock()
    done = False

    def call() -> None:
        nonlocal done
        with lock:
            if done:
                return
            done = True
        callback()

    return call
