"""Micro-benchmark of the real serving path in process: µs per Decide and per tier.

    python bench/decide_micro.py [--tracking-uri sqlite:///var/mlflow/mlflow.db] [--json out.json]

Builds the service's App on the registered champion, the shipped rules, the catalog and
the profile snapshot (what `make run` serves), then times, per request, with no gRPC in
between: the servicer's Decide for the rule-path and model-path requests of the load
benchmark, the rules tier alone, and the model tier alone (feature vector + predict +
ranking), for both single-row scorers (the compiled model and LightGBM's fast path); and
DecideBatch with 64 users, per decision. Medians of --repeats loops after a warm-up.
A tight loop keeps everything in the CPU caches: inside the server every figure is about
2-3x these (bench/README.md says why).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.decide_cases import batch_of, load_request
from decision.api import convert
from decision.api.servicer import DecisionServicer
from decision.domain import Decision, Request
from decision.metrics import EXPERIMENTS_INFO, EXPERIMENTS_RELOADS
from decision.pipeline.context import RequestContext
from decision.pipeline.tier import Answer, Tier
from decision.reload.specstore import SpecStore
from decision.runtime.app import App
from decision.settings import Settings
from decision.tiers.experiments.bandit import BanditState, LocalStats
from decision.tiers.experiments.casefile import compile_and_test
from decision.tiers.experiments.compiled import ExperimentSet
from decision.tiers.experiments.tier import ExperimentsTier
from decision.tiers.model.explore import Exploration
from decision.tiers.model.pool import ModelPool
from decision.tiers.model.tier import ModelTier

REPO = Path(__file__).resolve().parents[1]
SCORERS = ("native", "lightgbm")


class NoDeadline:
    """The one ServicerContext method Decide reads."""

    def time_remaining(self) -> None:
        return None


def add_app_arguments(parser: argparse.ArgumentParser) -> None:
    """What `start` serves: registry, rules, catalog, profiles (`make run`'s by default)."""
    parser.add_argument("--tracking-uri", default="sqlite:///var/mlflow/mlflow.db", help="registry with the champion")
    parser.add_argument("--rules-path", type=Path, default=REPO / "rules", help="rules folder")
    parser.add_argument("--catalog", type=Path, default=Path("var/data/catalog.json"), help="content catalog")
    parser.add_argument("--profiles", type=Path, default=Path("var/profiles.jsonl"), help="profile snapshot")


def start(args: argparse.Namespace, scorer: str, workdir: Path) -> App:
    """An App serving the champion through `scorer`, once model, catalog and profiles are loaded."""
    compile_timeout_s = 300.0 if scorer == "native" else 0.0
    settings = Settings.model_validate(
        {
            "listen": "127.0.0.1:0",
            "metrics_port": 0,
            "tracking_uri": args.tracking_uri,
            "rules_path": args.rules_path,
            "catalog_path": args.catalog,
            "profiles_path": args.profiles,
            "decision_log_path": workdir / "decisions.jsonl",
            "model_cache_dir": workdir / "models",
            "model_compile_timeout_seconds": compile_timeout_s,
        }
    )
    app = App(settings)
    ready = threading.Event()
    app.start(ready.set)
    deadline = time.monotonic() + compile_timeout_s + 180
    while not (ready.is_set() and _scored_by(app) == scorer and app.catalog.current and app.profiles.current):
        if time.monotonic() > deadline:
            app.stop()
            raise SystemExit(
                f"no model scored by {scorer} (got {_scored_by(app)}), or no catalog or profiles, from "
                f"{args.tracking_uri}: run `make run`, and see the log above"
            )
        time.sleep(0.1)
    return app


def model_tier(app: App) -> ModelTier:
    tier = app.tier("model")
    assert isinstance(tier, ModelTier)
    return tier


def _scored_by(app: App) -> str | None:
    loaded = model_tier(app).models.current
    return loaded.ranker.predictor if loaded else None


def median_us(fn: Callable[[], object], calls: int, repeats: int, per_call: int = 1) -> float:
    for _ in range(calls // 10):
        fn()
    loops = []
    for _ in range(repeats):
        started = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        loops.append((time.perf_counter_ns() - started) / calls / per_call / 1000)
    return statistics.median(loops)


def measure(app: App, calls: int, repeats: int) -> dict[str, float]:
    servicer = DecisionServicer(app.decider, app.outcomes, app.live, timeout_seconds=0.25)
    servicer.ready = True
    context = NoDeadline()
    rule, model = load_request("decide_rule"), load_request("decide_model")
    batch = batch_of(model)
    now = datetime.now(UTC)
    model_request = convert.request_from_pb(model)
    rules, ranking = app.tier("rules"), model_tier(app)

    def tier_call(tier: Tier) -> Callable[[], object]:
        return lambda: tier.decide(RequestContext(model_request, now, None, 3, app.sources))

    experiments = app.tier("experiments")
    fixed, thompson = experiment_tier(app, "fixed"), experiment_tier(app, "thompson")

    def with_sink(tier: ExperimentsTier) -> Callable[[], object]:
        """An adaptive experiment's whole cost: the arm drawn, then the exposure recorded."""

        def call() -> object:
            ctx = RequestContext(model_request, now, None, 3, app.sources)
            answer = tier.decide(ctx)
            assert isinstance(answer, Answer)
            tier.on_decision(Decision("d", "", answer.source, answer.items, answer.provenance, now), ctx)
            return answer

        return call

    cases: dict[str, tuple[Callable[[], object], int]] = {
        "decide_rule_path": (lambda: servicer.Decide(rule, context), 1),  # type: ignore[arg-type]
        "decide_model_path": (lambda: servicer.Decide(model, context), 1),  # type: ignore[arg-type]
        "rules_tier": (tier_call(rules), 1),
        # what a per-segment experiment pays on its own for the user's profile (the model tier
        # shares the same lookup in a real Decide): subtract it from the Thompson case
        "request_context_profile_lookup": (lambda: RequestContext(model_request, now, None, 3, app.sources).profile, 1),
        "experiments_tier_no_experiment": (tier_call(experiments), 1),
        "experiments_tier_fixed_ab_control": (tier_call(fixed), 1),
        "experiments_tier_thompson_with_exposure": (with_sink(thompson), 1),
        "model_tier_features_predict_rank": (tier_call(ranking), 1),
        "model_tier_exploring_epsilon_0.1": (tier_call(exploring(app, ranking, model_request, "epsilon:0.1")), 1),
        "model_tier_exploring_softmax_0.05": (tier_call(exploring(app, ranking, model_request, "softmax:0.05")), 1),
        "decide_batch_64_per_decision": (lambda: servicer.DecideBatch(batch, context), len(batch.requests)),  # type: ignore[arg-type]
    }
    try:
        return {
            name: median_us(fn, max(1, calls // per_call), repeats, per_call)
            for name, (fn, per_call) in tqdm(cases.items(), desc="timing", unit="case", leave=False)
        }
    finally:
        for tier in (fixed, thompson):
            tier.stop()


def exploring(app: App, ranking: ModelTier, request: Request, how: str) -> ModelTier:
    """The model tier drawing the request's placement's items with exploration `how`."""
    assert isinstance(app.models, ModelPool)
    return ModelTier(app.models, ranking.alias, "bench_explore", {request.placement: Exploration.parse(how, "bench")})


def experiment_tier(app: App, name: str) -> ExperimentsTier:
    """An experiments tier over bench/experiments/<name> (the benchmark user is in its experiment)."""
    store: SpecStore[ExperimentSet] = SpecStore(
        REPO / "bench" / "experiments" / name, compile_and_test, f"bench {name}", EXPERIMENTS_RELOADS, EXPERIMENTS_INFO
    )
    store.load_initial()
    tier = ExperimentsTier(store, app.models, BanditState(LocalStats()), name=f"bench_{name}")
    assert tier.bandit is not None
    current = store.current
    assert current is not None
    tier.bandit.use(current.experiments)
    tier.bandit.refresh()  # publish the vectors as the background refresh would
    return tier


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_app_arguments(parser)
    parser.add_argument("--calls", type=int, default=20000, help="calls per timed loop")
    parser.add_argument("--repeats", type=int, default=5, help="timed loops per case")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--scorer", choices=SCORERS, help=argparse.SUPPRESS)  # one scorer, JSON out
    args = parser.parse_args()
    if args.scorer:
        with tempfile.TemporaryDirectory(prefix="decide-micro-") as tmp:
            app = start(args, args.scorer, Path(tmp))
            try:
                print(json.dumps(measure(app, args.calls, args.repeats)))
            finally:
                app.stop()
        return 0
    # Each scorer in a fresh process: one after the other in this one, the second would
    # inherit the first's frozen heap, engine state and collector thresholds.
    results: dict[str, dict[str, float]] = {}
    for scorer in tqdm(SCORERS, desc="scorers", unit="process"):
        command = [sys.executable, __file__, *sys.argv[1:], "--scorer", scorer]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.stderr.write(done.stderr[-3000:])
            return done.returncode
        results[scorer] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"µs per call, median of {args.repeats} loops of {args.calls} (batch: per decision)")
    print(f"{'case':36} {'native':>9} {'lightgbm':>9}")
    for name in results["native"]:
        print(f"{name:36} {results['native'][name]:9.1f} {results['lightgbm'][name]:9.1f}")
    if args.json:
        figures = {"calls": args.calls, "repeats": args.repeats, "results_us": results}
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
