"""µs per model-path decision for catalogs of 40, 304 and 1,000 items: what the ranker costs as the catalog grows.

    python bench/catalog_scale.py [--events 100000] [--items-per-category 5 38 125] [--json out.json]

For each size: generate the synthetic world with that many items per category (8
categories), train and promote the default model into a registry of its own (training's
pipeline, as `training bootstrap` does), then, in a fresh process per size, start the
service's App on it with the compiled model and time in process: the model tier alone and
the servicer's Decide on the model path, for 500 users of the log in rotation (each user's
first request fills the caches kept with the profile; the figure is their steady state),
and for users without a profile. Medians of --repeats loops. Data and registries stay in
bench/results/catalog-<items>/ for later runs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.decide_micro import NoDeadline, median_us, model_tier, start

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
USERS = 500


def prepare(per_category: int, events: int, seed: int) -> Path:
    """Data, a champion and a snapshot for one catalog size (kept for later runs)."""
    from training.pipeline import TrainConfig, train
    from training.promote import promote
    from training.workflow import data_paths, generate_data

    home = RESULTS / f"catalog-{per_category * 8}"
    uri = f"sqlite:///{home / 'mlflow.db'}"
    if (home / "profiles.jsonl").exists():
        return home
    home.mkdir(parents=True, exist_ok=True)
    generate_data(home / "data", events, seed, per_category=per_category)
    cfg = TrainConfig(
        paths=data_paths(home / "data"),
        profiles_out=home / "profiles.jsonl",
        tracking_uri=uri,
        user_key_path=home / "var" / "user.key",  # where the service, started in `home`, looks
    )
    result = train(cfg)
    promote(uri, cfg.model_name, result.registered.version)
    return home


def measure(home: Path, calls: int, repeats: int) -> dict[str, float]:
    """In the child: the App on this size's champion, timed."""
    from bench.decide_cases import load_request
    from decision.api.servicer import DecisionServicer
    from decision.domain import Context, Request
    from decision.pipeline.context import RequestContext
    from decision.v1 import decision_service_pb2 as pb

    args = argparse.Namespace(
        tracking_uri=f"sqlite:///{home / 'mlflow.db'}",
        rules_path=ROOT / "rules",
        catalog=home / "data" / "catalog.json",
        profiles=home / "profiles.jsonl",
    )
    with tempfile.TemporaryDirectory(prefix="catalog-scale-") as tmp:
        app = start(args, "native", Path(tmp))
        try:
            tier = model_tier(app)
            loaded = tier.models.current
            assert loaded is not None
            now = datetime.now(UTC)
            context = Context(region="DE", device="mobile", channel="web")
            known = [Request(f"u{n:07d}", "home_banner", context=context, consent=True) for n in range(USERS)]
            strangers = [Request(f"stranger-{n}", "home_banner", context=context, consent=True) for n in range(50)]
            served = DecisionServicer(app.decider, app.outcomes, app.live, timeout_seconds=0.25)
            served.ready = True
            template = load_request("decide_model")
            decides = []
            for n in range(USERS):
                request = pb.DecideRequest()
                request.CopyFrom(template)
                request.user_id = f"u{n:07d}"
                decides.append(request)

            def rotate(requests: list[Request]) -> object:
                cursor = iter(range(1 << 62))
                return lambda: tier.decide(
                    RequestContext(requests[next(cursor) % len(requests)], now, None, 3, app.sources)
                )

            turn = iter(range(1 << 62))
            catalog = app.catalog.current
            assert catalog is not None
            return {
                "items": float(len(loaded.ranker.spec.items)),
                "trees": float(loaded.ranker.trees),
                "candidates": float(
                    min(loaded.ranker.spec.candidate_limit, len(catalog.eligible("home_banner", "DE", now)))
                ),
                "model_tier_known_users_us": median_us(rotate(known), calls, repeats),  # type: ignore[arg-type]
                "model_tier_no_profile_us": median_us(rotate(strangers), calls, repeats),  # type: ignore[arg-type]
                "decide_model_path_us": median_us(
                    lambda: served.Decide(decides[next(turn) % USERS], NoDeadline()),  # type: ignore[arg-type]
                    calls,
                    repeats,
                ),
            }
        finally:
            app.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items-per-category", type=int, nargs="+", default=[5, 38, 125])
    parser.add_argument("--events", type=int, default=100_000, help="events generated per size")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--calls", type=int, default=5000, help="calls per timed loop")
    parser.add_argument("--repeats", type=int, default=5, help="timed loops per case")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.calls, args.repeats)))
        return 0
    results = {}
    for per_category in args.items_per_category:
        home = prepare(per_category, args.events, args.seed)
        command = [
            sys.executable,
            __file__,
            "--child",
            str(home),
            "--calls",
            str(args.calls),
            "--repeats",
            str(args.repeats),
        ]
        # cwd: the service finds the user key training used (var/user.key beside the data)
        done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=home)
        if done.returncode != 0:
            sys.stderr.write(done.stderr[-3000:])
            return done.returncode
        results[per_category * 8] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"µs per call, median of {args.repeats} loops of {args.calls}; compiled model")
    head = ["items", "trees", "candidates", "model tier (known users)", "model tier (no profile)", "Decide, model path"]
    print("  ".join(f"{h:>24}" for h in head))
    for figures in results.values():
        cells = [figures[k] for k in ("items", "trees", "candidates")]
        cells += [figures[k] for k in ("model_tier_known_users_us", "model_tier_no_profile_us", "decide_model_path_us")]
        print("  ".join(f"{c:>24.0f}" if i < 3 else f"{c:>24.1f}" for i, c in enumerate(cells)))
    if args.json:
        args.json.write_text(json.dumps({"calls": args.calls, "repeats": args.repeats, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
