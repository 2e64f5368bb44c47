"""`decision serve` for the soak, as an operator would start it, with all its state in the world folder."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from bench.decide_cases import metrics_ports
from bench.servers import Server, running
from bench.soak.world import REPO, World

# What the Makefile and the Dockerfile set for production: the allocator's behaviour is part
# of what the soak measures, so it runs with the same settings unless told otherwise.
PRODUCTION_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "16777216", "MALLOC_TRIM_THRESHOLD_": "67108864"}


def command(world: World, args: argparse.Namespace, metrics_port: int) -> list[str]:
    flags: dict[str, object] = {
        "listen": "127.0.0.1:0",
        "port-file": world.root / "port",
        "processes": args.processes,
        "rules-path": world.rules,
        "rules-poll-seconds": args.rules_poll_seconds,
        "experiments-path": world.experiments,
        "tracking-uri": world.tracking_uri,
        "model-poll-seconds": args.model_poll_seconds,
        "model-compile-timeout-seconds": args.model_compile_timeout_seconds,
        "model-cache-dir": world.root / "models",
        "catalog-path": world.catalog,
        "profiles-path": world.profiles,
        "decision-log-path": world.decision_log,
        "outcome-log-path": world.outcome_log,
        "user-key-path": world.root / "user.key",
        "metrics-port": metrics_port,
    }
    if args.shared_state_url:
        flags["shared-state-url"] = args.shared_state_url
    argv = [sys.executable, "-m", "decision", "serve"]
    for flag, value in flags.items():
        argv += [f"--{flag}", str(value)]
    return argv


@contextmanager
def serving(world: World, args: argparse.Namespace, user_key: str) -> Iterator[tuple[Server, int]]:
    """The server, SERVING (its rules active); yields it and the first process's metrics port."""
    metrics_port = metrics_ports(args.processes)  # process i serves /metrics on this + i
    environment = {
        **{name: os.environ.get(name, value) for name, value in PRODUCTION_MALLOC.items()},
        "PYTHONPATH": str(REPO),
        "DECISION_USER_KEY": user_key,  # the key training pseudonymized the profiles with
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    }
    with running(
        "server",
        command(world, args, metrics_port),
        log_dir=world.root,
        core=args.server_core if args.pin else None,
        port_file=world.root / "port",
        timeout_s=180,
        env=environment,
        cwd=world.root,
    ) as server:
        yield server, metrics_port
