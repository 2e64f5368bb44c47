"""`python -m bench.soak`: build a world, soak a real server in it, report; see --help."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.meta import loadavg
from bench.soak.drive import soak
from bench.soak.options import parse_args
from bench.soak.summary import conclude
from bench.soak.world import build_world


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.pin:  # the loads, the world's training and everything this process starts stay on one core
        os.sched_setaffinity(0, {int(args.load_core)})
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("TQDM_DISABLE", "1")  # the world's training bars; the soak prints its own progress
    # Training pseudonymizes the profiles with this key; the server must use the same one.
    user_key = os.environ.setdefault("DECISION_USER_KEY", secrets.token_hex(32))
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="soak-"))
    started, load_before = time.time(), loadavg()
    try:
        print(f"building the world in {workdir} ({args.events:,} events: bootstrap a champion, a second version)")
        world = build_world(workdir, args.events, args.seed)
        print(f"world ready in {time.time() - started:.0f} s; starting decision serve")
        soaked = soak(world, args, user_key)
        return conclude(soaked, args, started, load_before)
    finally:
        if args.workdir is None and not args.keep_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        elif args.keep_workdir:
            print(f"kept the world in {workdir}")


if __name__ == "__main__":
    sys.exit(main())
