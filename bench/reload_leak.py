"""Memory per rules reload: RSS and Python's traced heap while the real RulesetStore swaps versions.

Copies a rules folder (default: the shipped `rules/`) into a temporary folder and, in this
process, alternates its `version:` line between two values, calling `RulesetStore.reload()`
after each change: every reload compiles, loads into durable-rules, runs the files' own
tests, publishes (freezing the heap, as serving does) and unloads the previous version.
Every K reloads it samples the resident set size (psutil: the C engine's share too) and
tracemalloc (Python's share only), and ends with the growth per reload of each, fitted over
the samples after the warm-up. RSS growing much faster than the traced heap points at C;
objects piling up in the frozen generation are reference cycles `gc.freeze` keeps for ever,
which `--collect` (unfreeze and run a full collection after each reload) tells apart from
growth that no collection can free.

    python bench/reload_leak.py --reloads 1000 --every 100
"""

from __future__ import annotations

import argparse
import gc
import re
import shutil
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from decision.tiers.rules.engine import ENGINE
from decision.tiers.rules.store import RulesetStore

MIB = 2**20
VERSION_LINE = re.compile(r"^version:.*$", re.MULTILINE)
VERSIONS = ("reload-a", "reload-b")


@dataclass(frozen=True, slots=True)
class Sample:
    reloads: int
    rss: int
    traced: int
    frozen: int
    engine_rulesets: int
    seconds: float


def copy_rules(source: Path, target: Path) -> list[Path]:
    """Copy the ruleset's files; refuse a folder whose files carry no version line to rewrite."""
    files = []
    for file in sorted(source.glob("*.yaml")):
        if not VERSION_LINE.search(file.read_text(encoding="utf-8")):
            sys.exit(f"{file}: no top-level 'version:' line to rewrite; pass --rules a folder of rule files")
        files.append(Path(shutil.copy(file, target / file.name)))
    if not files:
        sys.exit(f"{source}: no rule files; pass --rules a folder of *.yaml rule files")
    return files


def set_version(files: list[Path], version: str) -> None:
    for file in files:
        file.write_text(VERSION_LINE.sub(f'version: "{version}"', file.read_text(encoding="utf-8")), encoding="utf-8")


def reload_to(store: RulesetStore, files: list[Path], version: str, collect: bool) -> None:
    set_version(files, version)
    error = store.reload()
    if error is not None:
        sys.exit(f"reload to {version} refused, nothing measured:\n{error}")
    if collect:  # give back what publishing froze, then free every unreachable cycle
        gc.unfreeze()
        gc.collect()


def sample(reloads: int, started: float, process: psutil.Process) -> Sample:
    traced = tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else 0
    return Sample(
        reloads,
        process.memory_info().rss,
        traced,
        gc.get_freeze_count(),
        len(ENGINE.live_names()),
        time.perf_counter() - started,
    )


def bytes_per_reload(samples: list[Sample], field: str) -> float:
    """Least-squares slope of `field` against the reload count."""
    x = np.array([s.reloads for s in samples], dtype=float)
    y = np.array([getattr(s, field) for s in samples], dtype=float)
    return float(np.polyfit(x, y, 1)[0]) if len(samples) > 1 else float("nan")


def table(samples: list[Sample]) -> str:
    first = samples[0]
    rows = [
        f"{'reloads':>8} {'RSS MiB':>9} {'dRSS MiB':>9} {'traced MiB':>11} {'dtraced MiB':>12} "
        f"{'frozen objs':>12} {'engine rulesets':>16} {'seconds':>8}"
    ]
    for s in samples:
        rows.append(
            f"{s.reloads:>8} {s.rss / MIB:>9.1f} {(s.rss - first.rss) / MIB:>9.2f} {s.traced / MIB:>11.2f} "
            f"{(s.traced - first.traced) / MIB:>12.3f} {s.frozen:>12} {s.engine_rulesets:>16} {s.seconds:>8.1f}"
        )
    return "\n".join(rows)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reloads", type=int, default=1000, help="reloads to measure (default 1000)")
    parser.add_argument("--every", type=int, default=100, help="sample every K reloads (default 100)")
    parser.add_argument("--warmup", type=int, default=20, help="reloads before the first sample (default 20)")
    parser.add_argument("--rules", type=Path, default=Path("rules"), help="rules folder to copy (default rules/)")
    parser.add_argument(
        "--no-tracemalloc", action="store_true", help="RSS only (tracemalloc roughly doubles the run time)"
    )
    parser.add_argument(
        "--collect",
        action="store_true",
        help="gc.unfreeze + full gc.collect after each reload (serving never does; diagnosis only)",
    )
    args = parser.parse_args(argv)
    if args.reloads < 1 or args.every < 1 or args.warmup < 0:
        parser.error("--reloads and --every must be at least 1, --warmup at least 0")
    if not args.rules.is_dir():
        parser.error(f"--rules {args.rules}: not a folder")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    process = psutil.Process()
    if not args.no_tracemalloc:
        tracemalloc.start()
    with tempfile.TemporaryDirectory(prefix="reload-leak-") as folder:
        files = copy_rules(args.rules, Path(folder))
        set_version(files, VERSIONS[0])
        store = RulesetStore(Path(folder))
        store.load_initial()
        for i in range(args.warmup):
            reload_to(store, files, VERSIONS[(i + 1) % 2], args.collect)
        started = time.perf_counter()
        samples = [sample(0, started, process)]
        for i in range(1, args.reloads + 1):
            reload_to(store, files, VERSIONS[(args.warmup + i) % 2], args.collect)
            if i % args.every == 0 or i == args.reloads:
                samples.append(sample(i, started, process))
                print(f"  {i}/{args.reloads} reloads", file=sys.stderr, flush=True)
    freezing = "unfreeze + full collection after each reload" if args.collect else "frozen at each publish, as served"
    print(f"{args.reloads} reloads of {args.rules} ({len(files)} files), {args.warmup} warm-up reloads; {freezing}")
    print(table(samples))
    rss, traced = bytes_per_reload(samples, "rss"), bytes_per_reload(samples, "traced")
    frozen = bytes_per_reload(samples, "frozen")
    print(f"RSS: {rss:,.0f} bytes per reload ({rss * 10_000 / MIB:,.0f} MiB per 10,000 reloads)")
    if not args.no_tracemalloc:
        print(f"tracemalloc (Python's share): {traced:,.0f} bytes per reload")
    print(f"objects left in gc.freeze's permanent generation: {frozen:,.1f} per reload")


if __name__ == "__main__":
    main()
