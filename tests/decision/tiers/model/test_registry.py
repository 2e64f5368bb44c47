from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from decision.tiers.model.errors import RegistryError
from decision.tiers.model.registry import RegistryClient, redact
from decision.tiers.model.watchdog import Watchdog
from tests.decision.tiers.model import builders
from tests.decision.tiers.model.conftest import FAST_ENV, Registry


def wait_until(predicate, timeout_s: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_resolve_and_download_read_the_contract(registry: Registry, tmp_path: Path) -> None:
    registry.register()
    registry.set_alias(registry.register())
    client = RegistryClient(registry.uri, timeout_s=30)

    ref = client.resolve(registry.name, "champion")
    assert ref is not None
    assert (ref.name, ref.version) == (registry.name, "2")
    assert ref.run_id
    local = client.download(ref, tmp_path / "cache")

    assert local.model_file.is_file()
    assert local.path.is_relative_to(tmp_path / "cache")
    assert local.feature_names == builders.FEATURES
    assert local.spec == builders.SPEC
    assert local.feature_set_version == builders.FEATURE_SET_VERSION
    assert local.input_example is not None
    assert local.input_example.shape == (2, len(builders.FEATURES))
    assert len(local.sha256) == 64


def test_downloads_leave_no_thread_behind_when_the_heap_is_frozen(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow gives every artifact repository a thread pool it never shuts down, and the
    repository sits in a reference cycle. In a busy server the repository has reached the
    oldest generation by the time the download ends (here: a full collection during the
    download), the server freezes its heap after each swap, so the cycle is never collected
    and its threads live on: 3 threads per model swap, found by the soak."""
    import gc

    from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository

    from decision.reload.heap import freeze_long_lived

    download = LocalArtifactRepository.download_artifacts

    def download_while_the_collector_runs(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        gc.collect()  # everything alive now, this repository too, moves to the oldest generation
        return download(self, *args, **kwargs)

    monkeypatch.setattr(LocalArtifactRepository, "download_artifacts", download_while_the_collector_runs)
    registry.set_alias(registry.register())
    client = RegistryClient(registry.uri, timeout_s=30)
    ref = client.resolve(registry.name, "champion")
    assert ref is not None

    def mlflow_threads() -> int:
        return sum(t.name.startswith("Mlflow") for t in threading.enumerate())

    client.download(ref, tmp_path / "cache")  # the first one imports and warms MLflow
    before = mlflow_threads()
    try:
        for _ in range(5):
            client.download(ref, tmp_path / "cache")
            freeze_long_lived()
    finally:
        gc.unfreeze()
    wait_until(lambda: mlflow_threads() <= before, timeout_s=5)


def test_missing_alias_or_model_resolves_to_none(registry: Registry) -> None:
    registry.set_alias(registry.register())
    client = RegistryClient(registry.uri, timeout_s=30)
    assert client.resolve(registry.name, "no-such-alias") is None
    assert client.resolve("no-such-model", "champion") is None


def test_locked_sqlite_is_bounded_and_threads_do_not_pile_up(registry: Registry) -> None:
    registry.set_alias(registry.register())
    client = RegistryClient(registry.uri, timeout_s=1.0)
    assert client.resolve(registry.name, "champion") is not None  # client built before the lock
    threads_before = threading.active_count()
    lock = sqlite3.connect(registry.db, timeout=0, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    try:
        for _ in range(3):
            started = time.monotonic()
            with pytest.raises(RegistryError, match=r"no answer within 1 s|still running"):
                client.resolve(registry.name, "champion")
            assert time.monotonic() - started < 10  # MLflow alone would block 20 s
            assert threading.active_count() <= threads_before + 1
    finally:
        lock.execute("ROLLBACK")
        lock.close()

    def answers() -> bool:
        try:
            return client.resolve(registry.name, "champion") is not None
        except RegistryError:
            return False

    wait_until(answers)


def test_refused_tracking_server_fails_fast_without_leaking_credentials() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = RegistryClient(f"http://ops:s3cret-pw@127.0.0.1:{port}", timeout_s=10)
    started = time.monotonic()
    with pytest.raises(RegistryError, match=r"resolve nbc@champion at http://\*\*\*@127") as err:
        client.resolve("nbc", "champion")
    assert time.monotonic() - started < 10  # default MLflow retries would take ~247 s
    assert "s3cret" not in str(err.value)


def test_client_sets_fast_fail_http_env_when_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in FAST_ENV:
        monkeypatch.delenv(key)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "7")
    RegistryClient("sqlite:///unused.db", timeout_s=1)
    assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "0"
    assert os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "7"  # an operator's value wins


def test_redact_removes_userinfo_and_secret_params() -> None:
    text = "at postgresql://u:pw@db:5432/x?sslmode=require&password=abc and https://tok@h/p"
    assert redact(text) == ("at postgresql://***@db:5432/x?sslmode=require&password=*** and https://***@h/p")


def test_watchdog_allows_one_outstanding_call() -> None:
    release = threading.Event()
    watchdog = Watchdog(timeout_s=0.2)
    with pytest.raises(RegistryError, match=r"no answer within 0\.2 s"):
        watchdog.call("stuck", release.wait)
    with pytest.raises(RegistryError, match="still running"):
        watchdog.call("next", lambda: 1)
    release.set()
    wait_until(lambda: _call_or_none(watchdog) == 2)


def test_watchdog_passes_errors_through() -> None:
    def boom() -> int:
        raise RegistryError("from the call")

    with pytest.raises(RegistryError, match="from the call"):
        Watchdog(timeout_s=5).call("boom", boom)


def _call_or_none(watchdog: Watchdog) -> int | None:
    try:
        return watchdog.call("ok", lambda: 2)
    except RegistryError:
        return None


def test_closing_the_watchdog_lets_the_waiting_caller_go_and_refuses_new_calls() -> None:
    started, release = threading.Event(), threading.Event()
    watchdog = Watchdog(timeout_s=60)
    errors: list[Exception] = []

    def stuck() -> bool:
        started.set()
        return release.wait()

    def caller() -> None:
        try:
            watchdog.call("stuck", stuck)
        except RegistryError as exc:
            errors.append(exc)

    waiting = threading.Thread(target=caller)
    waiting.start()
    try:
        assert started.wait(5)
        watchdog.close()
        waiting.join(5)
        assert not waiting.is_alive()
        assert [str(e) for e in errors] == ["stuck: closed, the service is stopping"]
        with pytest.raises(RegistryError, match="later: closed, the service is stopping"):
            watchdog.call("later", lambda: 1)
    finally:
        release.set()
