"""The soak's command line: the issue's counts as defaults, every knob a flag."""

from __future__ import annotations

import argparse
import os
import subprocess
from pathlib import Path

from bench.soak.world import REPO

LOADS = ("decisions", "reloads", "swaps")
EXIT_NOT_FLAT = 3
EXIT_FAILED = 4

DESCRIPTION = """\
Soak the real decision server: a million decisions for 100,000 users, 10,000 rule reloads
and 1,000 model swaps, run concurrently against `decision serve` in a child process, with its
resident memory, threads and open files sampled every second. Prints a table per quarter of
the run and a flatness verdict per load, and writes table.txt, memory.png, soak.html and
soak.json to --out. Memory is flat when the last quarter's mean RSS is within --tolerance of
the second quarter's (the first is warm-up)."""

EPILOG = f"""\
exit status: 0 flat and every call answered; {EXIT_NOT_FLAT} a load (or the whole run) not flat;
{EXIT_FAILED} a call failed or a reload/swap was not activated in time (wins over {EXIT_NOT_FLAT}).
Attribute a leak with --only: `--only reloads` runs the rule reloads alone."""


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown after each flag; the description and epilog as written."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=_Formatter,
    )
    add = parser.add_argument
    add("--out", type=Path, default=REPO / "bench" / "results" / "soak", help="output folder")
    add("--only", default=",".join(LOADS), help="comma-separated loads to run: decisions, reloads, swaps")
    add("--decisions", type=int, default=1_000_000, help="decisions to make")
    add("--users", type=int, default=100_000, help="distinct users the decisions cycle through")
    add("--reloads", type=int, default=10_000, help="rule reloads to activate")
    add("--swaps", type=int, default=1_000, help="model swaps to serve")
    add("--batch-size", type=int, default=64, help="users per DecideBatch")
    add("--single-every", type=int, default=10, help="every n-th call is one Decide (0: never)")
    add("--outcome-every", type=int, default=5, help="a ReportOutcome after every n-th call")
    add("--clients", type=int, default=4, help="traffic threads, one connection each")
    add("--free-running", action="store_true", help="let each load run at its own speed instead of in lockstep")
    add("--tolerance", type=float, default=0.05, help="flat: |Q4 - Q2| / Q2 at most this")
    add("--sample-seconds", type=float, default=1.0, help="memory sampling interval")
    add("--scrape-seconds", type=float, default=0.02, help="how often /metrics is read")
    add("--progress-seconds", type=float, default=15.0, help="status line interval")
    add("--call-timeout", type=float, default=30.0, help="deadline of each gRPC call, s")
    add("--change-timeout", type=float, default=120.0, help="wait this long for a reload or swap")
    server = parser.add_argument_group("server")
    server.add_argument("--processes", type=int, default=1, help="decision serve --processes")
    server.add_argument("--rules-poll-seconds", type=float, default=0.02, help="how often the server checks the rules")
    server.add_argument("--model-poll-seconds", type=float, default=0.1, help="how often the server checks the alias")
    server.add_argument(
        "--model-compile-timeout-seconds",
        type=float,
        default=0.0,
        help="0: swaps are scored by LightGBM and not dominated by native compilation; "
        "> 0: each swap waits until native code scores the new version",
    )
    server.add_argument("--shared-state-url", default=None, help="Redis URL for the server's shared state")
    server.add_argument("--server-core", default="1", help="CPU the server is pinned to")
    server.add_argument("--load-core", default="0", help="CPU the loads run on")
    world = parser.add_argument_group("world")
    world.add_argument("--events", type=int, default=4_000, help="synthetic events to train on")
    world.add_argument("--seed", type=int, default=5, help="seed of the synthetic events")
    world.add_argument("--workdir", type=Path, default=None, help="world folder (none: a temp one, removed)")
    world.add_argument("--keep-workdir", action="store_true", help="keep the world folder (logs, decision log)")
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(args.only) - set(LOADS))
    if unknown or not args.only:
        parser.error(f"--only {','.join(unknown) or '(empty)'}: choose among {', '.join(LOADS)}")
    for flag in ("decisions", "users", "reloads", "swaps", "batch_size", "clients", "processes", "events"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be at least 1")
    # One server process and two CPUs: the server and the loads each get a core of their own.
    args.pin = args.processes == 1 and len(os.sched_getaffinity(0)) >= 2
    args.git_commit = _git_commit()  # now: the checkout may change while a long soak runs
    return args


def _git_commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "?"


def targets(args: argparse.Namespace) -> dict[str, int]:
    """The selected loads and their counts, in the order they are shown."""
    return {name: int(getattr(args, name)) for name in LOADS if name in args.only}
