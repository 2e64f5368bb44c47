"""Memory stays flat across rules reloads: the engine's session state and durable's cycles are freed.

durable-rules' delete_ruleset leaves each version's session state behind, and durable's
self-referencing Promises, frozen at publish, could never be collected: memory grew linearly
with reloads (docs/hazards.md#engine-reload). `bench/reload_leak.py` measures both with the
shipped rules.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path

import psutil
import pytest

from decision.tiers.rules.engine import ENGINE
from decision.tiers.rules.store import RulesetStore

MIB = 2**20
# Small, so that 1,000 reloads stay quick; its own test posts to the engine, which creates
# the session whose state used to outlive the version.
RULES = """version: "{version}"
rules:
  - id: big_cart
    priority: 10
    when: {{field: cart.value, op: ">=", value: 100}}
    then: {{content: [premium]}}
  - id: anything
    priority: 1
    then: {{content: [plain]}}
tests:
  - name: big cart
    request: {{placement: home_banner, cart: {{item_count: 1, value: 150}}}}
    expect: {{rule: big_cart}}
  - name: small cart
    request: {{placement: home_banner, cart: {{item_count: 1, value: 10}}}}
    expect: {{rule: anything}}
"""


class Versions:
    """A rules folder whose version alternates between two values, reloaded into a real store."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        self._write()
        self.store = RulesetStore(folder)
        self.store.load_initial()

    def _write(self) -> None:
        staged = self.folder / ".rules.yaml.tmp"
        staged.write_text(RULES.format(version=f"reload-{self.count % 2}"), encoding="utf-8")
        os.replace(staged, self.folder / "rules.yaml")

    def reload(self, times: int) -> None:
        for _ in range(times):
            self.count += 1
            self._write()
            assert self.store.reload() is None
            assert self.store.status()["version"] == f"reload-{self.count % 2}"


@pytest.fixture
def versions(tmp_path: Path) -> Versions:
    return Versions(tmp_path)


def test_a_thousand_reloads_keep_resident_memory_flat(versions: Versions) -> None:
    # Before the fix the last 500 reloads grew RSS by ~75 MiB; after it, by well under 1 MiB.
    process = psutil.Process()
    names_before = set(ENGINE.live_names())
    versions.reload(500)
    before = process.memory_info().rss
    versions.reload(500)
    grown_mib = (process.memory_info().rss - before) / MIB
    assert grown_mib < 10, f"RSS grew {grown_mib:.1f} MiB over 500 reloads"
    assert len(set(ENGINE.live_names()) - names_before) == 1  # only the serving version is registered


def test_a_replaced_version_leaves_no_reference_cycle_of_the_engine(versions: Versions) -> None:
    """Publishing freezes the heap, so a cycle in a version outlives it for ever. Undo each
    freeze, keep what the collector finds, and look for durable's objects among it: main
    left one self-referencing Promise per rule of every replaced version."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()  # nothing is collected behind our back before the final collect
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(20):
            versions.reload(1)
            gc.unfreeze()  # what the publish froze goes back into the collector's reach
        gc.collect()
        leftovers = sorted({type(o).__qualname__ for o in gc.garbage if type(o).__module__.startswith("durable")})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()
    assert leftovers == []
