"""Model promotions: the registry alias moved between two versions, each swap awaited on /metrics.

A swap counts once every server process serves the new version (with the scorer asked for:
native code when the server compiles models, else whatever serves it first).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from functools import partial

from bench.soak.progress import Progress
from bench.soak.scrape import MetricsWatch, ServerState
from bench.soak.world import ALIAS, MODEL_NAME

NAME = "swaps"
ALIAS_ATTEMPTS = 5  # SQLite may be locked for a moment while the server polls it


class ModelSwaps:
    """The swap load: move `champion` to the other version, wait until it serves, repeat."""

    def __init__(
        self,
        tracking_uri: str,
        versions: tuple[str, str],
        watch: MetricsWatch,
        progress: Progress,
        *,
        scorer: str | None,
        timeout_s: float,
    ) -> None:
        from mlflow import MlflowClient

        self._client = MlflowClient(tracking_uri=tracking_uri)
        self._versions = versions
        self._watch = watch
        self._progress = progress
        self._scorer = scorer
        self._timeout_s = timeout_s
        self.errors: Counter[str] = Counter()
        self.alias_retries = 0

    def run(self) -> None:
        try:
            index = 1  # the world starts with the first version as champion
            while self._progress.claim(NAME, 1):
                version = self._versions[index % 2]
                self._move_alias(version)
                if not self._watch.wait_for(partial(self._serving, version=version), self._timeout_s):
                    self.errors[f"model v{version} not served within {self._timeout_s:g} s"] += 1
                self._progress.done(NAME, 1)
                index += 1
        finally:
            self._progress.finish(NAME)

    def _move_alias(self, version: str) -> None:
        for attempt in range(ALIAS_ATTEMPTS):
            try:
                self._client.set_registered_model_alias(MODEL_NAME, ALIAS, version)
                return
            except Exception:  # MLflow wraps SQLite's "database is locked" in several exception types
                if attempt == ALIAS_ATTEMPTS - 1:
                    raise
                self.alias_retries += 1
                time.sleep(0.2)

    def _serving(self, states: Sequence[ServerState], *, version: str) -> bool:
        return all(s.model_version == version and self._scorer in (None, s.model_scorer) for s in states)
