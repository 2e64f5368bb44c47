"""Micro-benchmark: microseconds per rule evaluation with 10, 100 and 1,000 generated rules.

Each size gets a generated ruleset (placement filter, region `in`, numeric and attribute
comparisons), loaded into the real durable-rules engine. It times `evaluate` (facts +
engine post + delete_state, under the engine lock) and the engine call alone, and
reports the median over repeats.

    python bench/rules_micro.py --sizes 10 100 1000 --decisions 2000 --repeats 5 --json out.json
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from decision.domain import Cart, Context, Request
from decision.tiers.rules.active import ActiveRuleset
from decision.tiers.rules.compiler import compile_path

NOW = datetime(2026, 12, 10, 12, tzinfo=UTC)
REGIONS = ["DE", "FR", "US", "SE", "NO", "IT", "ES", "PL"]
PLACEMENTS = ["home_banner", "cart_page", "product_page", "email"]
PER_FILE = 250


def ruleset_text(first: int, size: int, rng: random.Random) -> str:
    lines = ['version: "bench"', "rules:"]
    for i in range(first, first + size):
        regions = ", ".join(f'"{r}"' for r in rng.sample(REGIONS, 3))
        lines += [
            f"  - id: r{i}",
            f"    priority: {rng.randint(0, 50)}",
            f"    placements: [{rng.choice(PLACEMENTS)}]",
            "    when:",
            "      all:",
            f"        - {{field: context.region, op: in, value: [{regions}]}}",
            f'        - {{field: cart.value, op: ">=", value: {rng.randint(0, 500)}}}',
            f'        - {{field: attributes.a{i % 20}, op: "==", value: true}}',
            f"    then: {{content: [c{i}]}}",
        ]
    return "\n".join(lines) + "\n"


def requests(count: int, rng: random.Random) -> list[Request]:
    return [
        Request(
            f"user-{i}",
            rng.choice(PLACEMENTS),
            context=Context(region=rng.choice(REGIONS)),
            cart=Cart(rng.randint(0, 5), rng.uniform(0, 600), "EUR", NOW - timedelta(minutes=5)),
            attributes={f"a{k}": rng.random() < 0.3 for k in range(20)},
            consent=True,
        )
        for i in range(count)
    ]


def measure(size: int, decisions: int, repeats: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as folder:
        for first in range(0, size, PER_FILE):  # one file stays under the size cap
            text = ruleset_text(first, min(PER_FILE, size - first), rng)
            (Path(folder) / f"bench_{first:05d}.yaml").write_text(text, encoding="utf-8")
        started = time.perf_counter()
        active = ActiveRuleset(compile_path(Path(folder)))
        load_ms = (time.perf_counter() - started) * 1e3
    batch = requests(decisions, rng)
    events = [active.event(r, NOW) for r in batch]
    full, engine_only, fired = [], [], 0
    try:
        for _ in range(repeats):
            started = time.perf_counter()
            fired = sum(active.evaluate(r, NOW).rule_id is not None for r in batch)
            full.append((time.perf_counter() - started) / decisions * 1e6)
            started = time.perf_counter()
            for event in events:
                active.fire(event)
            engine_only.append((time.perf_counter() - started) / decisions * 1e6)
    finally:
        active.close()
    return {
        "rules": size,
        "evaluate_us_median": round(statistics.median(full), 1),
        "engine_us_median": round(statistics.median(engine_only), 1),
        "compile_load_ms": round(load_ms, 1),
        "fired_share": round(fired / decisions, 3),
        "engine_rulesets": len(active.chunks),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--decisions", type=int, default=2000, help="decisions per repeat")
    parser.add_argument("--repeats", type=int, default=5, help="repeats; the median is reported")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args()
    results = []
    print(f"{'rules':>6} {'chunks':>6} {'evaluate µs':>12} {'engine µs':>10} {'compile+load ms':>16} {'fired':>6}")
    for size in args.sizes:
        row = measure(size, args.decisions, args.repeats, args.seed)
        results.append(row)
        print(
            f"{row['rules']:>6} {row['engine_rulesets']:>6} {row['evaluate_us_median']:>12} "
            f"{row['engine_us_median']:>10} "
            f"{row['compile_load_ms']:>16} {row['fired_share']:>6}",
            flush=True,
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"results": results}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
