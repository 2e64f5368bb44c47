"""Hot-path cost of the segment assigner: SegmentModel.assign for a profile and for a cold user.

    python bench/segments_bench.py [--model var/segments.json] [--profiles var/profiles.jsonl]

Without files it generates a small world (50k events), discovers its segments and uses
its end-of-log profiles. Prints per-call latency percentiles over 100k calls (single
thread), cycling through up to 1,000 different profiles, and the model file's load time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from decision.sources.features import Profile  # noqa: E402
from decision.sources.profiles import ProfileStore  # noqa: E402
from decision.sources.segments import SegmentModel  # noqa: E402

CALLS = 100_000


def percentiles(samples: list[int]) -> str:
    samples.sort()
    p = {q: samples[int(q / 100 * (len(samples) - 1))] / 1000 for q in (50, 90, 99)}
    return "  ".join(f"p{q} {v:.2f} µs" for q, v in p.items())


def timed(model: SegmentModel, profiles: Sequence[Profile | None], now: datetime) -> str:
    samples = []
    clock = time.perf_counter_ns
    assign = model.assign
    for i in range(CALLS):
        profile = profiles[i % len(profiles)]
        start = clock()
        assign(profile, now)
        samples.append(clock() - start)
    return percentiles(samples)


def sample_files(tmp: Path) -> tuple[Path, list[Profile]]:
    from training.defaults import pseudonymizer
    from training.generate import World, write
    from training.io import DataPaths, load
    from training.segments.discovery import discover

    world = World(1)
    world.run(50_000)
    write(tmp, world)
    inputs = load(DataPaths.in_dir(tmp), pseudonymizer())
    found = discover(inputs.events, bootstrap=0)
    return found.model.save(tmp / "segments.json"), found.behaviour.profiles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="segment model JSON (training segments --out)")
    parser.add_argument("--profiles", type=Path, help="profile snapshot (training train --profiles-out)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.model is None or args.profiles is None:
            model_path, profiles = sample_files(Path(tmp))
        else:
            model_path, profiles = args.model, list(ProfileStore.load(args.profiles))
        started = time.perf_counter()
        model = SegmentModel.load(model_path)
        load_s = time.perf_counter() - started
    now = datetime.now(UTC)
    shape = f"{len(model.segments)} segments over {len(model.feature_names)} features"
    print(f"model: {shape}, loaded in {load_s * 1e3:.1f} ms")
    print(f"assign(profile)  {timed(model, profiles[:1000], now)}")
    print(f"assign(None)     {timed(model, [None], now)}")


if __name__ == "__main__":
    main()
