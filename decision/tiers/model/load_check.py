"""Test-load a candidate model in a throwaway child process before the server touches it.

A truncated or slightly corrupt LightGBM file does not raise: it kills the
process that loads it (SIGSEGV/SIGABRT, also through mlflow.lightgbm). The
child is a plain `python -I <script>` subprocess, never a fork of the threaded
gRPC server, and it imports only numpy and lightgbm.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from decision.tiers.model.artifact import LocalModel
from decision.tiers.model.errors import ModelLoadError

_CHILD = Path(__file__).with_name("load_check_child.py")
# One OpenMP thread: the load check must not compete with serving for the cores.
_CHILD_ENV = {"OMP_NUM_THREADS": "1"}


def check_in_child(model: LocalModel, timeout_s: float) -> None:
    """Raise ModelLoadError unless a child process loads and sanely predicts `model`.

    Also checks that the bytes the child loaded are the ones hashed at download.
    """
    where = f"model {model.name} v{model.version}"
    spec = {
        "model_file": str(model.model_file),
        "num_features": len(model.feature_names),
        "rows": model.example_rows().tolist(),
    }
    result = run_child(_CHILD, spec, timeout_s, f"{where}: load check")
    if not result.get("ok"):
        raise ModelLoadError(f"{where}: load check refused it: {result.get('reason', 'unknown')}")
    if result.get("sha256") != model.sha256:
        raise ModelLoadError(f"{where}: {model.model_file.name} changed after download")


def run_child(script: Path, spec: dict[str, object], timeout_s: float, what: str) -> dict[str, object]:
    """Run `script` in a fresh interpreter with `spec` on stdin; its JSON verdict.

    Raises ModelLoadError (starting with `what`) when the child times out, cannot start
    or dies by a signal; a verdict of {"ok": false} is returned for the caller to judge.
    """
    try:
        done = subprocess.run(
            [sys.executable, "-I", str(script)],
            input=json.dumps(spec).encode(),
            capture_output=True,  # bytes: a dying LightGBM can leave invalid UTF-8 behind
            timeout=timeout_s,
            env={**os.environ, **_CHILD_ENV},
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ModelLoadError(f"{what} did not finish within {timeout_s:g} s") from None
    except OSError as exc:
        raise ModelLoadError(f"{what} could not start ({exc.strerror})") from None
    if done.returncode < 0:
        raise ModelLoadError(f"{what} child died with {_signal_name(-done.returncode)}")
    return _report(done.stdout, done.returncode)


def _report(stdout: bytes, returncode: int) -> dict[str, object]:
    """The child's verdict: its last stdout line (LightGBM prints its warnings above it)."""
    lines = stdout.decode("utf-8", errors="replace").strip().splitlines()
    try:
        result = json.loads(lines[-1])
    except (IndexError, ValueError):
        result = None
    if not isinstance(result, dict):
        return {"ok": False, "reason": f"exit status {returncode}, no report"}
    return result


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
