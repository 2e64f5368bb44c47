"""The durable-rules hazards of docs/hazards.md, exercised against the real engine."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import psutil
import pytest

from decision.domain import Cart, Context, Request
from decision.tiers.rules.active import ActiveRuleset
from tests.decision.tiers.rules.conftest import NOW

Load = Callable[[Path], ActiveRuleset]
REGIONS = ("DE", "US", "NO", "FR", "", "SE")
PLACEMENTS = ("home_banner", "cart_page", "product_page", "email", "unknown")


def request(i: int) -> Request:
    """A deterministic, varied request for user i: about half of them fire a rule."""
    cart = Cart(i % 4, float(i % 350), "EUR", NOW - timedelta(minutes=i % 90) if i % 5 else None)
    context = Context(region=REGIONS[i % len(REGIONS)], channel="kiosk" if i % 7 == 0 else "web")
    return Request(f"user-{i}", PLACEMENTS[i % len(PLACEMENTS)], context=context, cart=cart, consent=i % 3 != 0)


def decide_many(active: ActiveRuleset, indices: range) -> list[str | None]:
    return [active.evaluate(request(i), NOW).rule_id for i in indices]


@pytest.mark.parametrize("count", [10_000, pytest.param(100_000, marks=pytest.mark.slow)])
def test_many_distinct_users_keep_memory_flat(load: Load, count: int) -> None:
    active = load(Path("rules"))
    decide_many(active, range(2_000))  # warm allocator pools
    process = psutil.Process()
    before = process.memory_info().rss
    results = decide_many(active, range(count))
    grown_mb = (process.memory_info().rss - before) / 2**20
    assert grown_mb < 50
    fired = sum(r is not None for r in results)
    assert count * 0.2 < fired < count * 0.8  # both paths (rule / catch-all) exercised


def test_eight_threads_give_exactly_the_sequential_results(load: Load) -> None:
    active = load(Path("rules"))
    indices = range(8 * 1_500)
    expected = decide_many(active, indices)
    got: list[list[str | None]] = [[] for _ in range(8)]

    def worker(k: int) -> None:
        got[k] = decide_many(active, range(k, len(indices), 8))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for k in range(8):
        assert got[k] == expected[k::8]


def test_rule_tier_survives_malloc_perturb() -> None:
    """A no-match free (docs/hazards.md#engine-no-match-free) crashes under MALLOC_PERTURB_:
    run this folder (minus the volume tests) in a child."""
    env = dict(os.environ, MALLOC_PERTURB_="165", PYTHONFAULTHANDLER="1")
    folder = Path(__file__).parent
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(folder),
            "-q",
            "-p",
            "no:cacheprovider",
            "-k",
            "not perturb and not many_distinct and not thousand_reloads",
            "-m",
            "not slow",
            "-x",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
