from __future__ import annotations

import gc
import logging
import shutil
import socket
import sqlite3
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from prometheus_client import REGISTRY

from decision.tiers.model.artifact import LocalModel, ModelRef
from decision.tiers.model.registry import RegistryClient
from decision.tiers.model.store import ModelStore
from tests.decision.tiers.model import builders
from tests.decision.tiers.model.conftest import Registry


class CountingClient:
    """The real RegistryClient, with its calls counted (to see that nothing is retried)."""

    def __init__(self, uri: str, timeout_s: float = 30) -> None:
        self._client = RegistryClient(uri, timeout_s)
        self.calls: Counter[str] = Counter()

    def resolve(self, name: str, alias: str) -> ModelRef | None:
        self.calls["resolve"] += 1
        return self._client.resolve(name, alias)

    def download(self, ref: ModelRef, dest_dir: Path) -> LocalModel:
        self.calls[f"download v{ref.version}"] += 1
        return self._client.download(ref, dest_dir)

    def close(self) -> None:
        self._client.close()


def wait_until(predicate: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def serving(store: ModelStore) -> str | None:
    current = store.current
    return current.version if current else None


def settled_on(store: ModelStore, name: str, version: str, scorer: str = "lightgbm") -> bool:
    """The swap, its metric and its status all say `version`. The store sets them one
    after another, status last, so a test that read them right after the swap would
    race it."""
    status = store.status()
    return (
        serving(store) == version
        and status["state"] == "serving"
        and status["active_version"] == version
        and sample("decision_model_active_info", name=name, version=version, scorer=scorer) == 1
    )


def sample(metric: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(metric, labels) or 0.0


@pytest.fixture
def client(registry: Registry) -> CountingClient:
    return CountingClient(registry.uri)


def make_store(client: CountingClient, registry: Registry, cache_dir: Path, compile_timeout_s: float = 0) -> ModelStore:
    return ModelStore(
        client,
        registry.name,
        "champion",
        expected_feature_set_version=builders.FEATURE_SET_VERSION,
        expected_feature_names=builders.FEATURES,
        poll_seconds=0.05,
        cache_dir=cache_dir,
        load_check_timeout_s=60,
        compile_timeout_s=compile_timeout_s,
    )


@pytest.fixture
def store(registry: Registry, client: CountingClient, tmp_path: Path) -> Iterator[ModelStore]:
    store = make_store(client, registry, tmp_path / "cache")
    yield store
    store.stop()


def test_first_load_then_swap_while_readers_keep_reading(registry: Registry, store: ModelStore, tmp_path: Path) -> None:
    registry.set_alias(registry.register())
    v2 = registry.register(builders.train_booster(seed=1))
    store.start()
    wait_until(lambda: settled_on(store, registry.name, "1"))
    assert store.current is not None
    v1_ranker = weakref.ref(store.current.ranker)

    seen: Counter[str] = Counter()
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        row = np.zeros((1, len(builders.FEATURES)))
        while not done.is_set():
            try:
                current = store.current
                assert current is not None
                assert len(current.ranker.scores(row)) == 1
                seen[current.version] += 1
            except BaseException as exc:
                errors.append(exc)
                return

    reader = threading.Thread(target=read)
    reader.start()
    try:
        wait_until(lambda: seen["1"] > 0)
        registry.set_alias(v2)
        wait_until(lambda: serving(store) == "2" and seen["2"] > 0)
    finally:
        done.set()
        reader.join(10)
    assert errors == []
    # Released (and its native handles freed) once the readers and the swap let go of it.
    wait_until(lambda: gc.collect() >= 0 and v1_ranker() is None)
    wait_until(lambda: settled_on(store, registry.name, "2"))
    assert store.status()["consecutive_failures"] == 0
    assert sample("decision_model_active_info", name=registry.name, version="1", scorer="lightgbm") == 0
    # v1's download directory goes right after the swap; only v2's stays.
    wait_until(lambda: len(list((tmp_path / "cache").iterdir())) == 1)
    assert store.current is not None
    assert store.current.path.is_relative_to(next((tmp_path / "cache").iterdir()))


def test_the_model_serves_at_once_and_is_scored_natively_once_compiled(
    registry: Registry, client: CountingClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="decision.tiers.model")
    registry.set_alias(registry.register())
    store = make_store(client, registry, tmp_path / "cache", compile_timeout_s=60)
    scorers: list[str] = []
    store.start()
    try:
        wait_until(lambda: store.current is not None)
        row = np.zeros((1, len(builders.FEATURES)))
        while (current := store.current) is not None and current.ranker.predictor != "native":
            scorers.append(current.ranker.predictor)
            current.ranker.scores(row)  # the LightGBM ranker keeps serving meanwhile
            time.sleep(0.001)
        wait_until(lambda: settled_on(store, registry.name, "1", scorer="native"))
    finally:
        store.stop()
    assert scorers  # the compile child takes a second at least: LightGBM served before
    assert set(scorers) == {"lightgbm"}
    assert sample("decision_model_active_info", name=registry.name, version="1", scorer="lightgbm") == 0
    assert "v1: now scored by native code" in caplog.text


def test_a_relative_cache_dir_keeps_the_serving_download(
    registry: Registry, client: CountingClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Downloads come back with absolute paths: a relative cache dir (the default
    var/models) once made the store prune the very version it had just published."""
    monkeypatch.chdir(tmp_path)
    registry.set_alias(registry.register())
    store = make_store(client, registry, Path("cache"))
    store.start()
    try:
        wait_until(lambda: settled_on(store, registry.name, "1"))
        assert store.current is not None
        assert (store.current.path / "model.lgb").is_file()
    finally:
        store.stop()


def test_corrupt_version_is_refused_once_and_the_old_one_keeps_serving(
    registry: Registry, store: ModelStore, client: CountingClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="decision.tiers.model")
    registry.set_alias(registry.register())
    bad = registry.register(builders.train_booster(seed=2))
    good_bytes = registry.model_file(bad).read_bytes()
    builders.truncate(registry.model_file(bad))
    refused_before = sample("decision_model_reloads_total", result="refused")
    store.start()
    wait_until(lambda: serving(store) == "1")

    registry.set_alias(bad)
    wait_until(lambda: store.status()["state"] == "refused")
    polls = client.calls["resolve"]
    wait_until(lambda: client.calls["resolve"] >= polls + 5)

    status = store.status()
    assert serving(store) == "1"
    assert status["alias_version"] == bad
    assert isinstance(status["last_refusal"], dict)
    assert status["last_refusal"]["version"] == bad
    assert "load check child died with SIG" in str(status["last_refusal"]["error"])
    assert int(str(status["consecutive_failures"])) >= 5
    assert client.calls[f"download v{bad}"] == 1  # no retry storm
    assert sample("decision_model_reloads_total", result="refused") == refused_before + 1
    refusals = [r for r in caplog.records if f"v{bad} refused, keeping v1" in r.getMessage()]
    assert len(refusals) == 1

    registry.model_file(bad).write_bytes(good_bytes)  # fixed in place; an operator asks again
    store.reload_now()
    wait_until(lambda: serving(store) == bad)


def test_a_model_for_other_features_is_refused(registry: Registry, store: ModelStore) -> None:
    registry.set_alias(registry.register())
    other = registry.register(feature_set_version="fs-other")
    store.start()
    wait_until(lambda: serving(store) == "1")
    registry.set_alias(other)
    wait_until(lambda: store.status()["state"] == "refused")
    assert serving(store) == "1"
    assert "built for feature set fs-other" in str(store.status()["message"])


def test_deleted_champion_keeps_serving_and_says_so(registry: Registry, store: ModelStore) -> None:
    registry.set_alias(registry.register())
    store.start()
    wait_until(lambda: serving(store) == "1")
    registry.client.delete_model_version(registry.name, "1")  # takes the alias with it
    wait_until(lambda: store.status()["state"] == "alias_missing")
    current = store.current
    assert current is not None
    assert current.version == "1"
    assert len(current.ranker.scores(np.zeros((4, 5)))) == 4
    assert "not found in the registry; keeping v1" in str(store.status()["message"])


def test_empty_registry_serves_nothing_without_failing(registry: Registry, store: ModelStore) -> None:
    store.start()
    wait_until(lambda: store.status()["state"] == "no_model")
    assert store.current is None
    assert store.status()["consecutive_failures"] == 0


def test_unreachable_registry_at_start_is_reported(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = ModelStore(
        RegistryClient(f"http://127.0.0.1:{port}", timeout_s=5),
        "nbc",
        "champion",
        builders.FEATURE_SET_VERSION,
        builders.FEATURES,
        poll_seconds=0.05,
        cache_dir=tmp_path,
        load_check_timeout_s=60,
    )
    store.start()  # returns at once: the first poll runs on the store's thread
    try:
        wait_until(lambda: int(str(store.status()["consecutive_failures"])) >= 2)
        status = store.status()
        assert status["state"] == "registry_error"
        assert status["last_poll_ok_age_s"] is None
        assert store.current is None
    finally:
        store.stop()


def test_missing_artifacts_keep_the_current_model(registry: Registry, store: ModelStore) -> None:
    registry.set_alias(registry.register())
    v2 = registry.register(builders.train_booster(seed=3))
    shutil.rmtree(registry.model_file(v2).parent)
    store.start()
    wait_until(lambda: serving(store) == "1")
    registry.set_alias(v2)
    wait_until(lambda: store.status()["state"] == "registry_error")
    assert serving(store) == "1"
    assert f"download {registry.name} v{v2}" in str(store.status()["message"])


def test_a_garbage_registry_file_keeps_the_current_model(registry: Registry, store: ModelStore) -> None:
    registry.set_alias(registry.register())
    store.start()
    wait_until(lambda: serving(store) == "1")
    registry.db.write_bytes(bytes(range(256)) * 32)
    wait_until(lambda: store.status()["state"] == "registry_error")
    assert serving(store) == "1"
    assert "file is not a database" in str(store.status()["message"])


def test_stop_does_not_wait_for_a_registry_call_in_flight(
    registry: Registry, client: CountingClient, tmp_path: Path
) -> None:
    """A locked SQLite registry holds a call for seconds (minutes for a dead server):
    shutdown closes the client and goes on; the call ends later in its daemon thread."""
    lock = sqlite3.connect(registry.db, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    try:
        store = make_store(client, registry, tmp_path / "cache")
        store.start()
        wait_until(lambda: client.calls["resolve"] >= 1)
        time.sleep(0.2)  # well inside the call: SQLite retries for 5 s before it gives up
        store.stop(timeout_s=2)
        assert not [t for t in threading.enumerate() if t.name == "model-store"]
    finally:
        lock.rollback()
        lock.close()
