"""RulesetStore: first load, hot reload under traffic, refusal of broken files, status."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from decision import metrics
from decision.conditions.errors import SpecFileError
from decision.domain import Request
from decision.tiers.rules.engine import ENGINE
from decision.tiers.rules.store import RulesetStore
from tests.decision.tiers.rules.conftest import NOW, write

RULES = """version: "{v}"
rules:
  - id: rule_{v}
    priority: 1
    then: {{content: [content_{v}]}}
"""
REQUEST = Request("u1", "home_banner", consent=True)


def replace(folder: Path, text: str) -> None:
    """Write a new version the way deploys should: temp file + atomic rename."""
    tmp = folder / ".rules.yaml.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, folder / "rules.yaml")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RulesetStore]:
    write(tmp_path, RULES.format(v="v1"))
    store = RulesetStore(tmp_path, poll_seconds=0.05)
    store.load_initial()
    yield store
    store.stop()


def test_first_load_failure_raises_with_every_problem(tmp_path: Path) -> None:
    write(
        tmp_path,
        'rules:\n  - {id: a, priority: 1, then: {content: [x]},\n     when: {field: cart.valeu, op: ">", value: 1}}\n',
    )
    store = RulesetStore(tmp_path)
    with pytest.raises(SpecFileError, match=r"missing version(.|\n)*did you mean 'cart.value'"):
        store.load_initial()
    assert not store.ready
    assert store.evaluate(REQUEST, NOW) is None
    assert "missing version" in str(store.status()["last_error"])


def test_status_and_metrics_after_activation(store: RulesetStore) -> None:
    status = store.status()
    assert status["ready"] is True
    assert status["version"] == "v1"
    assert status["last_error"] == ""
    hash_ = str(status["hash"])
    assert metrics.RULESET_INFO.labels("v1", hash_)._value.get() == 1


def test_listener_runs_after_activation(store: RulesetStore, tmp_path: Path) -> None:
    calls: list[str] = []
    store.add_listener(lambda: calls.append(str(store.status()["version"])))
    replace(tmp_path, RULES.format(v="v2"))
    assert store.reload() is None
    assert calls == ["v1", "v2"]


def test_hot_reload_under_traffic_switches_cleanly(store: RulesetStore, tmp_path: Path) -> None:
    seen: list[tuple[str, str | None]] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            try:
                outcome = store.evaluate(REQUEST, NOW)
                assert outcome is not None
                seen.append((outcome.ruleset_version, outcome.rule_id))
            except BaseException as exc:
                failures.append(exc)
                return

    workers = [threading.Thread(target=traffic) for _ in range(3)]
    for worker in workers:
        worker.start()
    try:
        for version in ("v2", "v3", "v4", "v5"):
            replace(tmp_path, RULES.format(v=version))
            assert store.reload() is None
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=10)
    assert failures == []
    assert all(rule_id == f"rule_{version}" for version, rule_id in seen)
    assert {version for version, _ in seen} <= {"v1", "v2", "v3", "v4", "v5"}
    assert store.evaluate(REQUEST, NOW).rule_id == "rule_v5"  # type: ignore[union-attr]


def test_broken_file_keeps_old_version_and_logs_once(
    store: RulesetStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = RULES.format(v="v2") + "  - id: [unclosed\n"
    replace(tmp_path, broken)
    with caplog.at_level(logging.ERROR, logger="decision.tiers.rules.store"):
        assert store.reload() is not None
        assert store.reload() is not None
    assert store.evaluate(REQUEST, NOW).rule_id == "rule_v1"  # type: ignore[union-attr]
    status = store.status()
    assert status["version"] == "v1"
    assert "rules.yaml:7: YAML error" in str(status["last_error"])
    assert len([r for r in caplog.records if "refused" in r.getMessage()]) == 1
    replace(tmp_path, RULES.format(v="v1"))
    assert store.reload() is None
    assert store.status()["last_error"] == ""


def test_failing_self_test_refuses_the_version(store: RulesetStore, tmp_path: Path) -> None:
    text = RULES.format(v="v2") + (
        "tests:\n  - name: wrong\n    request: {placement: email}\n    expect: {rule: nope}\n"
    )
    replace(tmp_path, text)
    error = store.reload()
    assert error is not None
    assert "test 'wrong' failed: expected rule nope, got rule_v2" in str(error)
    assert store.status()["version"] == "v1"


def test_reloads_do_not_accumulate_engine_rulesets(store: RulesetStore, tmp_path: Path) -> None:
    before = len(ENGINE.live_names())
    for i in range(200):
        replace(tmp_path, RULES.format(v=f"r{i}"))
        assert store.reload() is None
    assert len(ENGINE.live_names()) == before


def test_watcher_activates_the_final_version_after_a_burst(store: RulesetStore, tmp_path: Path) -> None:
    activated = threading.Event()
    store.add_listener(lambda: activated.set() if store.status()["version"] == "v9" else None)
    store.start()
    for i in range(2, 10):
        replace(tmp_path, RULES.format(v=f"v{i}"))
    assert activated.wait(timeout=10)
    assert store.evaluate(REQUEST, NOW).rule_id == "rule_v9"  # type: ignore[union-attr]


def test_watcher_keeps_serving_when_the_folder_disappears(store: RulesetStore, tmp_path: Path) -> None:
    refused = threading.Event()
    store.start()
    (tmp_path / "rules.yaml").unlink()
    for _ in range(200):
        if "no *.yaml files" in str(store.status()["last_error"]):
            refused.set()
            break
        threading.Event().wait(0.05)
    assert refused.is_set()
    assert store.evaluate(REQUEST, NOW).rule_id == "rule_v1"  # type: ignore[union-attr]


def test_symlinked_folder_swap_activates_the_new_folder(tmp_path: Path) -> None:
    """The Envoy-style deploy: `ln -s v2 new && mv -T new current`."""
    for version in ("v1", "v2"):
        write(tmp_path / version, RULES.format(v=version))
    current = tmp_path / "current"
    current.symlink_to(tmp_path / "v1")
    store = RulesetStore(current, poll_seconds=0.05)
    store.load_initial()
    (tmp_path / "new").symlink_to(tmp_path / "v2")
    os.replace(tmp_path / "new", current)
    assert store.reload() is None
    assert store.evaluate(REQUEST, NOW).rule_id == "rule_v2"  # type: ignore[union-attr]
