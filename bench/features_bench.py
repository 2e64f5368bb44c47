"""Hot-path cost of the shared feature code: rows() per decision, catalog eligibility, snapshot load.

    python bench/features_bench.py [--profiles P --catalog C --spec extra_files/feature_spec.json]

Without a snapshot, catalog and spec it builds small ones in a temp dir (the generator's
40-item world). Prints per-call latency percentiles over 20k calls (single thread) of the
candidate rows for the busiest user and for a user without a profile, and the snapshot
load time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from decision.domain import Cart, Context, Request  # noqa: E402
from decision.sources.candidates import stage_order, take  # noqa: E402
from decision.sources.catalog import Catalog  # noqa: E402
from decision.sources.feature_spec import FeatureSpec  # noqa: E402
from decision.sources.features import excluded, item_columns, rows  # noqa: E402
from decision.sources.profiles import ProfileStore  # noqa: E402

CALLS = 20_000


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


def sample_files(tmp: Path) -> tuple[Path, Path, Path]:
    from decision.sources.profiles import write_snapshot
    from training.defaults import pseudonymizer
    from training.features import build
    from training.generate import World, write
    from training.io import DataPaths, load
    from training.spec import learn

    world = World(1)
    world.run(50_000)
    write(tmp, world)
    inputs = load(DataPaths.in_dir(tmp), pseudonymizer(tmp / "user.key"))
    replay = build(inputs.events, inputs.catalog, learn(inputs.events, inputs.catalog))
    write_snapshot(tmp / "profiles.jsonl", replay.profiles, replay.as_of, replay.spec.layout)
    replay.spec.save(tmp / "feature_spec.json")
    return tmp / "profiles.jsonl", tmp / "catalog.json", tmp / "feature_spec.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=Path)
    parser.add_argument("--catalog", type=Path)
    parser.add_argument("--spec", type=Path, help="a model's extra_files/feature_spec.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        profiles_path, catalog_path, spec_path = args.profiles, args.catalog, args.spec
        if profiles_path is None or catalog_path is None or spec_path is None:
            profiles_path, catalog_path, spec_path = sample_files(Path(tmp))
        started = time.perf_counter()
        store = ProfileStore.load(profiles_path)
        load_s = time.perf_counter() - started
        catalog = Catalog.load(catalog_path)
        spec = FeatureSpec.load(spec_path)
    profile = max(store, key=lambda p: p.events)
    now = datetime.now(UTC)
    request = Request(
        user_id=profile.user_id,
        placement="cart_page",
        context=Context(region="DE", device="mobile", channel="web", client_time=now),
        cart=Cart(item_count=2, value=59.0, updated_at=now - timedelta(minutes=30)),
    )
    block = item_columns(spec, spec.stats, np.arange(len(spec.items)))
    order = stage_order(spec, spec.stats, catalog.eligible(request.placement, "DE", now))
    candidates = np.array(take(order, excluded(spec, profile), spec.candidate_limit))
    print(f"snapshot: {len(store)} users loaded in {load_s:.2f} s; {len(candidates)} candidates")
    print(f"rows(profile)     {percentiles(lambda: rows(spec, spec.stats, profile, request, now, candidates, block))}")
    print(f"rows(None)        {percentiles(lambda: rows(spec, spec.stats, None, request, now, candidates, block))}")
    print(f"store.get         {percentiles(lambda: store.get(profile.user_id))}")
    print(f"catalog.eligible  {percentiles(lambda: catalog.eligible('home_banner', 'DE', now))}")


if __name__ == "__main__":
    main()
