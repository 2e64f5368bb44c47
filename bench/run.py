"""Benchmark the decision service against the bare gRPC ceiling and the model-serving peers.

    python bench/run.py --out bench/results --duration 8

Every contender runs one after another in this one invocation (so the figures are
comparable), as a child process pinned to --server-core, loaded by h2load pinned to
--load-core. Writes <out>/results.json, <out>/latency.png and <out>/table.txt.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tqdm import tqdm

from bench import meta, report, targets
from bench.groups import GROUPS, Settings
from bench.load import ensure_h2load
from bench.measure import Figures, measure
from bench.model_source import ModelSource, resolve

REPO = Path(__file__).resolve().parent.parent
logger = logging.getLogger("bench")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--out", type=Path, default=REPO / "bench" / "results", help="output folder"
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=8.0,
        help="seconds of each closed-loop and open-loop run (plus 1 s warm-up)",
    )
    parser.add_argument(
        "--only",
        default=",".join(g.name for g in GROUPS),
        help="comma-separated groups to run: " + ", ".join(g.name for g in GROUPS),
    )
    parser.add_argument(
        "--tracking-uri",
        default="sqlite:///var/mlflow/mlflow.db",
        help="MLflow registry holding the model every contender serves",
    )
    parser.add_argument("--model-name", default="next_best_content")
    parser.add_argument("--model-alias", default="champion")
    parser.add_argument(
        "--standin-if-missing",
        action="store_true",
        help="if the model is not registered, register a random 400-tree stand-in",
    )
    parser.add_argument(
        "--rules-path", type=Path, default=REPO / "rules", help="rules folder for the Decide server"
    )
    parser.add_argument("--workers", type=int, default=8, help="gRPC thread pool of the ceiling")
    parser.add_argument("--server-core", default="1", help="CPU the servers are pinned to")
    parser.add_argument("--load-core", default="0", help="CPU h2load is pinned to")
    parser.add_argument(
        "--mlserver-venv",
        type=Path,
        default=REPO / "bench" / ".venv-mlserver",
        help="virtual environment for MLServer (created on first use)",
    )
    return parser.parse_args(argv)


def _model(args: argparse.Namespace, workdir: Path) -> ModelSource | str:
    """The resolved model, or why there is none (then only the ceiling can run)."""
    try:
        return resolve(
            args.tracking_uri,
            args.model_name,
            args.model_alias,
            workdir,
            standin=args.standin_if_missing,
        )
    except Exception as exc:  # the reason is shown on every case that needs the model
        return (
            f"model {args.model_name}@{args.model_alias} not available from "
            f"{args.tracking_uri} ({type(exc).__name__}: {exc}); run `training bootstrap` "
            f"or pass --standin-if-missing"
        )


def run(args: argparse.Namespace) -> tuple[list[Figures], ModelSource | str]:
    """Measure every selected group; a group that cannot start marks its cases unavailable."""
    chosen = [g for g in GROUPS if g.name in args.only.split(",")]
    workdir = args.out / "run"
    workdir.mkdir(parents=True, exist_ok=True)
    ensure_h2load()
    needs_model = any(g.name != "ceiling" for g in chosen)
    model = _model(args, workdir) if needs_model else "not needed"
    settings = Settings(
        workdir,
        args.duration,
        args.server_core,
        args.load_core,
        model if isinstance(model, ModelSource) else None,
        args.rules_path.resolve(),
        args.workers,
        args.mlserver_venv.resolve(),
    )
    figures: list[Figures] = []
    bar = tqdm(total=sum(len(g.cases) for g in chosen), unit="case", file=sys.stdout)
    for group in chosen:
        done: list[Figures] = []
        try:
            if group.name != "ceiling" and settings.model is None:
                raise RuntimeError(model)
            with group.start(settings) as started:
                for case in started.cases:
                    bar.set_description(case.label)
                    figures_one = measure(case, args.duration, started.load_core)
                    figures_one.server = started.server.name
                    done.append(figures_one)
                    bar.update()
                rss = started.server.peak_rss_mb()
            for f in done:
                f.peak_rss_mb = rss
        except Exception as exc:  # a peer that cannot run is reported, the rest goes on
            measured = {f.name for f in done}
            for name, label in group.cases:
                if name not in measured:
                    done.append(Figures(name, label, error=f"{type(exc).__name__}: {exc}"))
                    bar.update()
        for f in done:
            if f.error:
                tqdm.write(f"{f.label}: unavailable: {f.error}")
        figures += done
    bar.close()
    return figures, model


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    before = meta.loadavg()
    figures, model = run(args)
    info = meta.collect(args, before, time.monotonic() - started, model)
    met = targets.evaluate(figures)
    text = report.table(figures, met)
    print("\n" + meta.headline(info) + "\n\n" + text)
    (args.out / "table.txt").write_text(meta.headline(info) + "\n\n" + text + "\n")
    report.write_json(args.out / "results.json", figures, info, met)
    report.plot(args.out / "latency.png", figures, meta.headline(info))
    print(
        f"\nwrote {args.out / 'results.json'}, {args.out / 'latency.png'}, {args.out / 'table.txt'}"
    )
    return 0 if any(not f.error for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
