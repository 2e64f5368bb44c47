"""The peers: the same registered model behind `mlflow models serve` and Seldon MLServer.

MLServer pins its own protobuf/pydantic/fastapi, so it lives in a virtual environment of
its own, created on first use (about 70 s and 480 MB here) and reused afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.model_source import ModelSource

MLSERVER_REQUIREMENTS = ("mlserver==1.7.1", "mlserver-lightgbm==1.7.1")
MLSERVER_MODEL = "next-best-content"
HELPER = Path(__file__).with_name("mlserver_client.py")


class PeerUnavailable(RuntimeError):
    """A peer cannot be installed or run here; the message says why."""


def mlflow_command(model: ModelSource, port: int) -> list[str]:
    """`mlflow models serve` on the registered model, in this environment, one worker."""
    return [
        sys.executable,
        "-m",
        "mlflow",
        "models",
        "serve",
        "-m",
        model.uri,
        "--env-manager",
        "local",
        "-p",
        str(port),
        "-h",
        "127.0.0.1",
        "--workers",
        "1",
    ]


def ensure_mlserver_venv(venv: Path) -> Path:
    """The MLServer venv's python, creating the venv and installing MLServer when needed."""
    python = venv / "bin" / "python"
    marker = venv / ".bench-requirements"
    wanted = "\n".join(MLSERVER_REQUIREMENTS)
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    print(f"creating {venv} and installing {' '.join(MLSERVER_REQUIREMENTS)} (first use, ~1-2 min)")
    started = time.monotonic()
    steps = (
        [sys.executable, "-m", "venv", "--clear", str(venv)],
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            *MLSERVER_REQUIREMENTS,
        ],
    )
    for step in steps:
        try:
            done = subprocess.run(step, capture_output=True, text=True, timeout=900, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PeerUnavailable(f"installing MLServer took over 15 min: {step}") from exc
        if done.returncode != 0:
            raise PeerUnavailable(f"{' '.join(step[:4])} failed: {done.stderr.strip()[-600:]}")
    marker.write_text(wanted)
    print(f"MLServer venv ready in {time.monotonic() - started:.0f} s")
    return python


def mlserver_repository(model: ModelSource, root: Path, ports: tuple[int, int, int]) -> Path:
    """A model repository with settings.json (ports, in-process inference) and the model."""
    if model.booster_file is None:
        raise PeerUnavailable(f"{model.uri} has no model.lgb: MLServer's LightGBM runtime needs one")
    http_port, grpc_port, metrics_port = ports
    model_dir = root / MLSERVER_MODEL
    model_dir.mkdir(parents=True, exist_ok=True)
    settings = {
        "host": "127.0.0.1",
        "http_port": http_port,
        "grpc_port": grpc_port,
        "metrics_port": metrics_port,
        # Inference in the server process: on one core a worker pool only adds IPC.
        "parallel_workers": 0,
        "debug": False,
    }
    (root / "settings.json").write_text(json.dumps(settings, indent=2))
    model_settings = {
        "name": MLSERVER_MODEL,
        "implementation": "mlserver_lightgbm.LightGBMModel",
        "parameters": {"uri": str(model.booster_file), "version": model.version},
    }
    (model_dir / "model-settings.json").write_text(json.dumps(model_settings, indent=2))
    return root


def mlserver_command(python: Path, repository: Path) -> list[str]:
    return [str(python.parent / "mlserver"), "start", str(repository)]


def mlserver_rest_body(model: ModelSource) -> bytes:
    """A single-row V2 inference request as JSON."""
    tensor = {
        "name": "input-0",
        "shape": [1, len(model.row)],
        "datatype": "FP32",
        "data": model.row,
    }
    return json.dumps({"inputs": [tensor]}).encode()


def mlserver_grpc(python: Path, model: ModelSource, action: str, extra: list[str]) -> str:
    """Run the helper in MLServer's venv (write the gRPC body, or make one real call)."""
    command = [
        str(python),
        str(HELPER),
        action,
        "--model",
        MLSERVER_MODEL,
        "--row",
        json.dumps(model.row),
    ]
    done = subprocess.run(command + extra, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise PeerUnavailable(f"MLServer gRPC {action} failed: {done.stderr.strip()[-600:]}")
    return done.stdout


def post_json(url: str, body: bytes) -> int:
    """One real HTTP call for a spot-check: 200 with a JSON body, whose size it returns."""
    request = urllib.request.Request(url, body, {"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        raw = reply.read()
    json.loads(raw)
    return len(raw)
