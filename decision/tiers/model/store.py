"""ModelStore: follow `name@alias` in the registry and hot-swap the model that serves.

Everything happens on one background thread, so the server never waits for the
registry, not even at start. A candidate is published only after it passed the
feature check, the child-process load check, the in-process load and the warm-up;
anything else leaves the current model serving. "Not found" after having had a
model (alias moved away, version deleted, a re-created empty SQLite registry) is
reported, never treated as an instruction to unload.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from decision.metrics import MODEL_INFO, MODEL_RELOADS, REGISTRY_POLL_AGE
from decision.reload.hotswap import HotSwap
from decision.tiers.model.artifact import LocalModel, ModelRef
from decision.tiers.model.candidate import compiled, prepare
from decision.tiers.model.errors import ModelLoadError, RegistryError
from decision.tiers.model.ranker import Ranker
from decision.tiers.model.status import PollState, StoreStatus

logger = logging.getLogger(__name__)


class ModelSource(Protocol):
    """What the store needs from a registry (RegistryClient in production)."""

    def resolve(self, name: str, alias: str) -> ModelRef | None: ...

    def download(self, ref: ModelRef, dest_dir: Path) -> LocalModel: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """The serving model; readers take `ModelStore.current` once per request."""

    name: str
    version: str
    ranker: Ranker
    path: Path


class ModelStore:
    """Polls the registry in the background and publishes checked models atomically."""

    def __init__(
        self,
        client: ModelSource,
        name: str,
        alias: str,
        expected_feature_set_version: str,
        expected_feature_names: Sequence[str],
        poll_seconds: float,
        cache_dir: Path,
        load_check_timeout_s: float,
        compile_timeout_s: float = 0.0,
    ) -> None:
        self._client = client
        self._name, self._alias = name, alias
        self._expected_version = expected_feature_set_version
        self._expected_names = tuple(expected_feature_names)
        self._poll_seconds = poll_seconds
        # Absolute: downloads come back with absolute paths, and _prune compares the two.
        self._cache_dir = cache_dir.resolve()
        self._load_check_timeout_s = load_check_timeout_s
        self._compile_timeout_s = compile_timeout_s
        self._swap: HotSwap[LoadedModel] = HotSwap()
        self._status = StoreStatus(name, alias)
        self._refused: set[str] = set()
        self._forget_refusals = False
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def current(self) -> LoadedModel | None:
        return self._swap.current

    @property
    def cache_dir(self) -> Path:
        """Where this store downloads model versions (its own, removed by the tier at stop)."""
        return self._cache_dir

    def start(self) -> None:
        """Start polling; the first load also happens on the background thread."""
        if self._thread is not None:
            raise RuntimeError("ModelStore already started")
        self._thread = threading.Thread(target=self._run, name="model-store", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop polling for good (the registry client is closed); the current model stays usable."""
        self._stopping.set()
        self._wake.set()
        self._client.close()  # a registry call in flight must not hold up the shutdown
        if self._thread is not None:
            self._thread.join(timeout_s)

    def reload_now(self) -> None:
        """Ask for a poll as soon as possible (returns at once); retries refused versions too."""
        self._forget_refusals = True
        self._wake.set()

    def status(self) -> dict[str, object]:
        current = self.current
        return self._status.as_dict(
            current.version if current else None, self._swap.last_success, self._swap.last_failure
        )

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._poll_once()
            except Exception:  # a bug here must not end polling or reach a request
                logger.exception("model store: unexpected error while polling %s", self._name)
            self._wake.wait(self._poll_seconds)
            self._wake.clear()

    def _poll_once(self) -> None:
        """One poll: resolve the alias and load the version it names if it is new."""
        if self._forget_refusals:
            self._forget_refusals = False
            self._refused.clear()
        try:
            ref = self._client.resolve(self._name, self._alias)
        except RegistryError as exc:
            self._status.set(PollState.REGISTRY_ERROR, str(exc))
            return
        REGISTRY_POLL_AGE.set(time.time())
        current = self.current
        self._status.polled(ref.version if ref else None)
        if ref is None:
            self._alias_missing(current)
        elif current is not None and current.version == ref.version:
            self._status.set(PollState.SERVING, f"serving v{current.version}")
        elif ref.version in self._refused:
            keeping = f"v{current.version}" if current else "no model"
            message = f"alias names v{ref.version}, refused earlier; keeping {keeping}"
            self._status.set(PollState.REFUSED, message, log=False)
        else:
            self._load(ref, current)

    def _alias_missing(self, current: LoadedModel | None) -> None:
        target = f"{self._name}@{self._alias}"
        if current is None:
            self._status.set(PollState.NO_MODEL, f"{target} not found; no model loaded yet")
        else:
            self._status.set(
                PollState.ALIAS_MISSING,
                f"{target} not found in the registry; keeping v{current.version}",
            )

    def _load(self, ref: ModelRef, current: LoadedModel | None) -> None:
        try:
            local = self._client.download(ref, self._cache_dir)
        except RegistryError as exc:  # transient: the same version is tried again next poll
            self._status.set(PollState.REGISTRY_ERROR, str(exc))
            return
        except ModelLoadError as exc:
            self._refuse(ref.version, "", str(exc), current)
            return
        try:
            ranker = prepare(local, self._expected_version, self._expected_names, self._load_check_timeout_s)
        except Exception as exc:  # any failure refuses the version: never a reload loop
            self._prune(keep=current.path if current else None)
            reason = (
                str(exc)
                if isinstance(exc, ModelLoadError)
                else f"model {ref.name} v{ref.version}: unexpected {type(exc).__name__} on load"
            )
            self._refuse(ref.version, local.sha256, reason, current)
            return
        loaded = LoadedModel(self._name, ref.version, ranker, local.path)
        previous = self._swap.publish(loaded, ref.version, local.sha256)
        MODEL_RELOADS.labels(result="success").inc()
        MODEL_INFO.labels(name=self._name, version=ref.version, scorer=ranker.predictor).set(1)
        if previous is not None:
            MODEL_INFO.remove(self._name, previous.version, previous.ranker.predictor)
        old = f"v{previous.version}" if previous else "nothing"
        logger.info(
            "model %s: %s -> v%s (sha256 %s, scored by %s)",
            self._name,
            old,
            ref.version,
            local.sha256,
            ranker.predictor,
        )
        self._status.set(PollState.SERVING, f"serving v{ref.version}")
        self._prune(keep=local.path)  # models run from memory; readers of the old one are fine
        if self._compile_timeout_s > 0:
            self._compile(loaded, local.sha256)

    def _compile(self, loaded: LoadedModel, sha256: str) -> None:
        """Swap in the serving version scored by native code, once that is ready (seconds
        later): until then, and for good if compiling fails, LightGBM scores it."""
        native = compiled(loaded.ranker, self._compile_timeout_s)
        if native is None or self._stopping.is_set():
            return
        self._swap.publish(LoadedModel(loaded.name, loaded.version, native, loaded.path), loaded.version, sha256)
        MODEL_INFO.labels(name=self._name, version=loaded.version, scorer=native.predictor).set(1)
        MODEL_INFO.remove(self._name, loaded.version, loaded.ranker.predictor)
        logger.info("model %s v%s: now scored by %s code", self._name, loaded.version, native.predictor)

    def _refuse(self, version: str, sha256: str, reason: str, current: LoadedModel | None) -> None:
        """Record and log a bad version once; it is skipped until reload_now()."""
        self._refused.add(version)
        self._swap.refuse(version, sha256, reason)
        MODEL_RELOADS.labels(result="refused").inc()
        keeping = f"v{current.version}" if current else "no model"
        logger.warning("model %s v%s refused, keeping %s: %s", self._name, version, keeping, reason)
        self._status.set(PollState.REFUSED, reason, log=False)

    def _prune(self, keep: Path | None) -> None:
        """Delete every download under cache_dir but the one holding `keep`: replaced and
        refused versions, downloads a timed-out registry call finished late, leftovers
        of an earlier process."""
        if not self._cache_dir.is_dir():
            return
        keep = keep.resolve() if keep is not None else None
        for entry in self._cache_dir.iterdir():
            if keep is None or not keep.is_relative_to(entry):
                shutil.rmtree(entry, ignore_errors=True)
