"""Benchmark the decision service against the bare gRPC ceiling and the model-serving peers.

    python bench/run.py --out bench/results --duration 8

All contenders run in this one invocation, each a child process pinned to --server-core,
loaded in turn by h2load pinned to --load-core; their saturation runs are interleaved in
rounds so the ratios between them survive other load on the machine. Writes
<out>/results.json, <out>/latency.png and <out>/table.txt.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tqdm import tqdm

from bench import meta, report, targets
from bench.groups import GROUPS, Settings
from bench.load import ensure_h2load
from bench.measure import Entry, Figures, measure_all
from bench.model_source import ModelSource, resolve
from bench.servers import Server

REPO = Path(__file__).resolve().parent.parent
logger = logging.getLogger("bench")
PEER_GROUPS = ("mlflow", "mlserver")
SQLITE = "sqlite:///"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results", help="output folder")
    parser.add_argument(
        "--duration",
        type=float,
        default=8.0,
        help="seconds of closed-loop load per case (split over --rounds), and of its open-loop run",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="interleaved saturation rounds; a case's maximum is the median of its rounds",
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
        help="if the model is not registered, the peers serve a random 400-tree stand-in "
        "(registered under --out, not in --tracking-uri)",
    )
    parser.add_argument("--rules-path", type=Path, default=REPO / "rules", help="rules folder for the Decide server")
    parser.add_argument(
        "--any-source",
        action="store_true",
        help="measure Decide even if a rule/model request is not answered by "
        "that tier (for a server still missing one; rows are marked)",
    )
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
    """The peers' model, or why there is none (then the peers cannot run).

    A stand-in goes into a registry of its own under --out, never into the service's.
    """
    name, alias = args.model_name, args.model_alias
    advice = "run `training bootstrap` or pass --standin-if-missing"
    database = _sqlite_file(args.tracking_uri)
    if database is not None and not database.is_file():
        # Asking MLflow would create an empty registry there: leave the service's alone.
        reason = f"no registry at {database}: {advice}"
    else:
        try:
            return resolve(args.tracking_uri, name, alias, workdir, standin=False)
        except Exception as exc:  # the reason is shown on every case that needs the model
            reason = (
                f"model {name}@{alias} not available from {args.tracking_uri} ({type(exc).__name__}: {exc}); {advice}"
            )
    if not args.standin_if_missing:
        return reason
    standin_uri = f"sqlite:///{(args.out / 'standin' / 'mlflow.db').resolve()}"
    (args.out / "standin").mkdir(parents=True, exist_ok=True)
    print(f"{reason}\n-> the peers serve a random stand-in registered in {standin_uri}")
    return resolve(standin_uri, name, alias, workdir, standin=True)


def _absolute_uri(uri: str) -> str:
    """sqlite:///relative/path is relative to the repository root, as for `make run`."""
    database = _sqlite_file(uri)
    return f"{SQLITE}{database}" if database is not None else uri


def _sqlite_file(uri: str) -> Path | None:
    """The database file of a sqlite:/// URI (relative ones from the repository root)."""
    if not uri.startswith(SQLITE):
        return None
    path = Path(uri[len(SQLITE) :])
    return path if path.is_absolute() else REPO / path


def run(args: argparse.Namespace) -> tuple[list[Figures], ModelSource | str]:
    """Measure every selected group; a group that cannot start marks its cases unavailable."""
    chosen = [g for g in GROUPS if g.name in args.only.split(",")]
    workdir = args.out / "run"
    workdir.mkdir(parents=True, exist_ok=True)
    ensure_h2load()
    needs_model = any(g.name in PEER_GROUPS for g in chosen)
    model = _model(args, workdir) if needs_model else "not needed: no peer selected"
    settings = Settings(
        workdir,
        args.duration,
        args.server_core,
        args.load_core,
        (args.tracking_uri, args.model_name, args.model_alias),
        model,
        args.rules_path.resolve(),
        not args.any_source,
        args.mlserver_venv.resolve(),
    )
    entries: list[Entry] = []
    unavailable: list[Figures] = []
    rss: dict[str, tuple[Server, list[Entry]]] = {}
    with ExitStack() as stack:
        for group in tqdm(chosen, desc="starting servers", unit="server", file=sys.stdout):
            try:
                started = stack.enter_context(group.start(settings))
            except Exception as exc:  # a peer that cannot run is reported, the rest goes on
                for name, label in group.cases:
                    unavailable.append(Figures(name, label, error=f"{type(exc).__name__}: {exc}"))
                    tqdm.write(f"{label}: unavailable: {exc}")
                continue
            mine = [
                Entry(c, started.load_core, Figures(c.name, c.label, server=started.server.name), started.server)
                for c in started.cases
            ]
            rss[group.name] = (started.server, mine)
            entries += mine
        steps = len(entries) * (args.rounds + 1)
        with tqdm(total=steps, unit="run", file=sys.stdout) as bar:

            def progress(what: str) -> None:
                bar.set_description(what[:60])
                bar.update()

            measure_all(entries, args.duration, args.rounds, progress)
        for server, mine in rss.values():
            for entry in mine:
                entry.figures.peak_rss_mb = server.peak_rss_mb()
    order = [name for g in GROUPS for name, _ in g.cases]
    figures = [e.figures for e in entries] + unavailable
    return sorted(figures, key=lambda f: order.index(f.name)), model


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.tracking_uri = _absolute_uri(args.tracking_uri)
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
    print(f"\nwrote {args.out / 'results.json'}, {args.out / 'latency.png'}, {args.out / 'table.txt'}")
    return 0 if any(not f.error for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
