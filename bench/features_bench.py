"""Hot-path cost of the shared feature code: vector(), catalog eligibility, snapshot load.

    python bench/features_bench.py [--profiles var/profiles.jsonl] [--catalog var/data/catalog.json]

Without a snapshot or catalog it builds small ones in a temp dir. Prints per-call
latency percentiles over 100k calls (single thread) and the snapshot load time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from decision.domain import Cart, Context, Request  # noqa: E402
from decision.sources.catalog import Catalog  # noqa: E402
from decision.sources.features import vector  # noqa: E402
from decision.sources.profiles import ProfileStore  # noqa: E402

CALLS = 100_000


def percentiles(func: object, calls: int = CALLS) -> str:
    samples = []
    clock = time.perf_counter_ns
    for _ in range(calls):
        start = clock()
        func()  # type: ignore[operator]
        samples.append(clock() - start)
    samples.sort()
    p = {q: samples[int(q / 100 * (len(samples) - 1))] / 1000 for q in (50, 90, 99)}
    return "  ".join(f"p{q} {v:.2f} µs" for q, v in p.items())


def sample_files(tmp: Path) -> tuple[Path, Path]:
    from decision.sources.profiles import write_snapshot
    from training.defaults import pseudonymizer
    from training.features import build, snapshot_time
    from training.generate import World, write
    from training.io import DataPaths, load

    world = World(1)
    world.run(50_000)
    write(tmp, world)
    inputs = load(DataPaths.in_dir(tmp), pseudonymizer())
    _, profiles = build(inputs.events, inputs.catalog)
    write_snapshot(tmp / "profiles.jsonl", profiles, snapshot_time(inputs.events))
    return tmp / "profiles.jsonl", tmp / "catalog.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=Path)
    parser.add_argument("--catalog", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        profiles_path, catalog_path = args.profiles, args.catalog
        if profiles_path is None or catalog_path is None:
            profiles_path, catalog_path = sample_files(Path(tmp))
        started = time.perf_counter()
        store = ProfileStore.load(profiles_path)
        load_s = time.perf_counter() - started
        catalog = Catalog.load(catalog_path)
    profile = max(store, key=lambda p: p.events)
    now = datetime.now(UTC)
    request = Request(
        user_id=profile.user_id,
        placement="cart_page",
        context=Context(region="DE", device="mobile", channel="web", client_time=now),
        cart=Cart(item_count=2, value=59.0, updated_at=now - timedelta(minutes=30)),
    )
    print(f"snapshot: {len(store)} users loaded in {load_s:.2f} s")
    print(f"vector(profile)   {percentiles(lambda: vector(profile, request, now))}")
    print(f"vector(None)      {percentiles(lambda: vector(None, request, now))}")
    print(f"store.get         {percentiles(lambda: store.get(profile.user_id))}")
    print(f"catalog.eligible  {percentiles(lambda: catalog.eligible('home_banner', 'DE', now))}")


if __name__ == "__main__":
    main()
