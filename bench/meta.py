"""What a reader needs to trust or repeat a run: versions, machine, load, settings, model."""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.model_source import ModelSource
from bench.peers import MLSERVER_REQUIREMENTS

PACKAGES = (
    "grpcio",
    "protobuf",
    "lightgbm",
    "mlflow",
    "numpy",
    "durable-rules",
    "decision-service",
)


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _command_output(command: list[str]) -> str | None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return None
    return (done.stdout or done.stderr).strip().splitlines()[0] if done.returncode == 0 else None


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def collect(args: argparse.Namespace, before: list[float], seconds: float, model: ModelSource | str) -> dict[str, Any]:
    """Everything about this run except the figures."""
    repo = Path(__file__).resolve().parent.parent
    model_info: dict[str, object] | str = (
        model
        if isinstance(model, str)
        else {
            "uri": model.uri,
            "version": model.version,
            "tracking_uri": model.tracking_uri,
            "standin": model.standin,
            "features": len(model.row),
        }
    )
    return {
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - seconds)),
        "wall_seconds": round(seconds, 1),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "machine": {
            "cpus": os.cpu_count(),
            "cpu_model": _cpu_model(),
            "kernel": platform.release(),
            "loadavg_before": before,
            "loadavg_after": loadavg(),
        },
        "pinning": {"server_core": args.server_core, "load_core": args.load_core},
        "duration_s": args.duration,
        "versions": {
            "python": platform.python_version(),
            **{p: _version(p) for p in PACKAGES},
            "h2load": _command_output(["h2load", "--version"]),
            "mlserver": " ".join(MLSERVER_REQUIREMENTS),
            "git_commit": _command_output(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"]),
        },
        "model": model_info,
    }


def headline(info: dict[str, Any]) -> str:
    """One line: when, where, what model, how busy the machine was."""
    machine, pinning, model = info["machine"], info["pinning"], info["model"]
    shown = model if isinstance(model, str) else f"{model['uri']} v{model['version']}"
    if isinstance(model, dict) and model["standin"]:
        shown += " (random stand-in)"
    return (
        f"bench {info['started_utc']}, {machine['cpus']} CPUs ({machine['cpu_model']}), "
        f"server on core {pinning['server_core']}, load on core {pinning['load_core']}, "
        f"{info['duration_s']} s per run, load avg {machine['loadavg_before'][0]:.1f}"
        f"->{machine['loadavg_after'][0]:.1f}; model {shown[:120]}"
    )
