"""`training join` speed and memory on logs of a million decisions.

    python bench/join_bench.py                                   # 1M decisions, 200k outcomes
    python bench/join_bench.py --decisions 100000 --outcomes 20000

The logs are written once into bench/results/join-<decisions>/ (reused on later runs) by the
service's own record builder (`decision.feedback.decision_log.record_for`, the outcome log's
`encode_outcome`), as two replicas would: two decision files and two outcome files, 1 % of
outcomes repeated in the other replica's file, 1 % for unknown decisions, a fifth of the
decisions from an experiment with a segment (fields the service writes later). Each
decision shows 3 items. The join then runs in a fresh child process, so its peak RSS is
the join's alone; stages are timed, in wall-clock and CPU seconds (the box is shared: wall
time can be several times the CPU time), and written to bench/results/join.json.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
START = datetime(2026, 11, 1, tzinfo=UTC)


def write_logs(folder: Path, decisions: int, outcomes: int, seed: int = 1) -> None:
    """Two replicas' decision and outcome logs, written with the service's own encoders."""
    sys.path.insert(0, str(ROOT))
    import orjson

    from decision.domain import Context, Decision, Item, Outcome, Provenance, Request, Source
    from decision.feedback.decision_log import record_for
    from decision.feedback.outcomes import encode_outcome
    from decision.pipeline.context import RequestContext, Sources
    from decision.privacy import Pseudonymizer

    class _Nothing:
        current = None

        def get(self, user_id: str) -> None:
            return None

    rng = random.Random(seed)
    keys = Pseudonymizer(bytes(range(32)))
    sources = Sources(_Nothing(), _Nothing())
    placements = ("home_banner", "cart_page", "product_page", "email")
    folder.mkdir(parents=True, exist_ok=True)
    files = [(folder / f"decisions-{i}.jsonl").open("wb") for i in range(2)]
    shown: list[tuple[str, datetime, str]] = []
    for n in range(decisions):
        decided = START + timedelta(seconds=n * 2.5)
        items = tuple(Item(f"c{rng.randrange(40)}", rng.random(), rank, probability=0.5) for rank in (1, 2, 3))
        decision = Decision(
            f"d{n:08d}",
            f"r{n}",
            Source.MODEL,
            items,
            Provenance(model_name="nbc", model_version=str(1 + n // 400_000), tier="model"),
            decided,
        )
        request = Request(
            f"u{rng.randrange(50_000)}",
            placements[n % 4],
            context=Context("DE", "mobile", "web"),
            consent=rng.random() < 0.9,
        )
        record = record_for(decision, RequestContext(request, decided, None, 3, sources), keys)
        if n % 5 == 0:
            record["segment"] = "loyal"
            record["experiment"] = {"id": "hero", "version": 2, "arm": "B", "probability": 0.5, "levels": {}}
        files[n % 2].write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
        if len(shown) < outcomes:
            shown.append((decision.decision_id, decided, items[0].content_id))
    for file in files:
        file.close()
    outs = [(folder / f"outcomes-{i}.jsonl").open("wb") for i in range(2)]
    for k in range(outcomes):
        decision_id, decided, content = rng.choice(shown)
        if k % 100 == 0:
            decision_id = f"unknown-{k}"
        kind = rng.choice(("impression", "click", "click", "conversion"))
        outcome = Outcome(decision_id, kind, content, 25.0 if kind == "conversion" else 0.0, None, f"k{k}")
        line = encode_outcome((outcome, decided + timedelta(seconds=rng.uniform(0, 3600))))
        outs[k % 2].write(line)
        if k % 100 == 1:
            outs[(k + 1) % 2].write(line)  # the other replica logged it too
    for file in outs:
        file.close()


def join_one(folder: Path) -> dict[str, float]:
    """Run in the child: read both logs, join, write both tables; timed by stage."""
    sys.path.insert(0, str(ROOT))
    from training.served.join import JoinOptions, join
    from training.served.logs import expand, read_decisions, read_outcomes
    from training.served.tables import items_path, write_table

    out: dict[str, float] = {}

    def stage(name: str, started: tuple[float, float]) -> None:
        out[f"{name}_s"] = time.perf_counter() - started[0]
        out[f"{name}_cpu_s"] = time.process_time() - started[1]

    t = (time.perf_counter(), time.process_time())
    frames = read_decisions(expand([str(folder / "decisions-*.jsonl")]))
    stage("read_decisions", t)
    t = (time.perf_counter(), time.process_time())
    outcomes = read_outcomes(expand([str(folder / "outcomes-*.jsonl")]))
    stage("read_outcomes", t)
    t = (time.perf_counter(), time.process_time())
    joined = join(frames, outcomes, JoinOptions(), (2, 2))
    stage("join", t)
    t = (time.perf_counter(), time.process_time())
    write_table(joined.decisions, folder / "joined.parquet")
    write_table(joined.items, items_path(folder / "joined.parquet"))
    stage("write", t)
    out["decisions"] = len(joined.decisions)
    out["items"] = len(joined.items)
    out["outcomes_read"] = joined.summary.outcomes_read
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--outcomes", type=int, default=200_000)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        json.dump(join_one(args.child), sys.stdout)
        return
    folder = RESULTS / f"join-{args.decisions}-{args.outcomes}"
    if not (folder / "outcomes-1.jsonl").exists():
        started = time.perf_counter()
        write_logs(folder, args.decisions, args.outcomes)
        print(f"wrote the logs into {folder} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    sizes = sum(p.stat().st_size for p in folder.glob("*.jsonl")) / 1e6
    child = subprocess.run(
        [sys.executable, __file__, "--child", str(folder)], check=True, capture_output=True, text=True
    )
    result = {"log_mb": round(sizes, 1), **json.loads(child.stdout)}
    result["total_s"] = sum(v for k, v in result.items() if k.endswith("_s") and not k.endswith("cpu_s"))
    result["total_cpu_s"] = sum(v for k, v in result.items() if k.endswith("cpu_s"))
    for key, value in result.items():
        print(f"{key:<16} {value:,.2f}" if isinstance(value, float) else f"{key:<16} {value:,}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "join.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
