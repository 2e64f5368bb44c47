"""Start the real `decision serve` command in a child process, as an operator would."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import grpc

from decision.runtime.app import App
from decision.runtime.server import RunningServer, build_server
from decision.settings import Settings
from decision.v1 import decision_service_pb2_grpc as pb_grpc

REPO_RULES = Path(__file__).resolve().parents[2] / "rules"


@contextlib.contextmanager
def in_process(tmp_path: Path, **overrides: object) -> Iterator[tuple[App, RunningServer, pb_grpc.DecisionServiceStub]]:
    """The App and its gRPC server in this process, every file it reads or writes in `tmp_path`."""
    fields: dict[str, object] = {
        "listen": "127.0.0.1:0",
        "metrics_port": 0,
        "rules_path": REPO_RULES,
        "tracking_uri": f"sqlite:///{tmp_path / 'mlflow.db'}",
        "model_cache_dir": tmp_path / "models",
        "catalog_path": tmp_path / "catalog.json",
        "profiles_path": tmp_path / "profiles.jsonl",
        "segments_path": tmp_path / "segments.json",
        "decision_log_path": tmp_path / "decisions.jsonl",
        "outcome_log_path": tmp_path / "outcomes.jsonl",
        "forgotten_path": tmp_path / "forgotten.keys",
        "user_key_path": tmp_path / "user.key",
    }
    settings = Settings(**(fields | overrides))  # type: ignore[arg-type]
    app = App(settings)
    running = build_server(settings, app.decider, app.outcomes, app.live)
    app.start(running.mark_serving)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            yield app, running, pb_grpc.DecisionServiceStub(channel)
    finally:
        running.server.stop(0).wait()
        app.stop()


def start_server(
    tmp_path: Path, *extra: str, env: Mapping[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """`decision serve` on a free port with state in `tmp_path`; returns once it is SERVING."""
    port_file = tmp_path / "port"
    # Nothing from the checkout's var/ (a `make run` leaves a registry with a champion there).
    environment = {
        **os.environ,
        "DECISION_DECISION_LOG_PATH": "",
        "DECISION_METRICS_PORT": "0",
        "DECISION_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
        "DECISION_MODEL_CACHE_DIR": str(tmp_path / "models"),
        "DECISION_CATALOG_PATH": str(tmp_path / "catalog.json"),
        "DECISION_PROFILES_PATH": str(tmp_path / "profiles.jsonl"),
        "DECISION_SEGMENTS_PATH": str(tmp_path / "segments.json"),
        "DECISION_OUTCOME_LOG_PATH": str(tmp_path / "outcomes.jsonl"),
        "DECISION_FORGOTTEN_PATH": str(tmp_path / "forgotten.keys"),
        "DECISION_USER_KEY_PATH": str(tmp_path / "user.key"),
        **(env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "decision", "serve", "--listen", "127.0.0.1:0", "--port-file", str(port_file), *extra],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not port_file.exists():
        assert process.poll() is None, "server exited during start"
        assert time.monotonic() < deadline, "server did not become ready"
        time.sleep(0.05)
    return process, int(port_file.read_text())
