"""Published values leave the garbage collector's full passes; garbage does not get frozen with them."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from prometheus_client import REGISTRY

from decision.reload.heap import YOUNG_THRESHOLD, collect_young_less_often, freeze_long_lived, watch_pauses
from decision.reload.hotswap import HotSwap
from decision.tiers.rules.store import RulesetStore
from tests.decision.tiers.rules.conftest import write


class Node:
    """A tracked object that can take part in a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


def walked_by_collector(value: object) -> bool:
    """True if a full collection would visit `value` (frozen objects are not listed)."""
    return any(o is value for o in gc.get_objects())


def test_a_published_value_is_frozen() -> None:
    value = Node()
    assert walked_by_collector(value)
    HotSwap[Node]().publish(value, "v1", "hash")
    assert not walked_by_collector(value)


def test_young_cyclic_garbage_is_collected_before_freezing() -> None:
    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    del a, b
    freeze_long_lived()
    assert gone() is None


def test_ruleset_reloads_freeze_little_garbage(tmp_path: Path) -> None:
    """Each reload may strand a ruleset's reference cycles in the frozen generation; keep that small."""
    rules = 'version: "v{n}"\nrules:\n  - {{id: r{n}, priority: 1, then: {{content: [c]}}}}\n'
    write(tmp_path, rules.format(n=0))
    store = RulesetStore(tmp_path)
    store.load_initial()
    gc.unfreeze()  # count only what this test strands, not earlier tests' garbage
    gc.collect()
    gc.freeze()
    reloads = 10
    try:
        for n in range(1, reloads + 1):
            write(tmp_path, rules.format(n=n))
            assert store.reload() is None
    finally:
        store.stop()
    gc.unfreeze()
    stranded = gc.collect()
    gc.freeze()
    assert stranded < 50 * reloads


def test_collection_pauses_are_exported() -> None:
    watch_pauses()
    watch_pauses()  # idempotent: one observation per collection, not two
    before = REGISTRY.get_sample_value("decision_gc_pause_seconds_count", {"generation": "2"}) or 0.0
    gc.collect()
    assert REGISTRY.get_sample_value("decision_gc_pause_seconds_count", {"generation": "2"}) == before + 1


def test_the_youngest_generation_is_collected_less_often_and_the_others_keep_their_thresholds() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)  # CPython's defaults, whatever an earlier test left
        assert collect_young_less_often() == (700, 10, 10)
        assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)
    finally:
        gc.set_threshold(*before)
