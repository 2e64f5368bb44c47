"""Start the real `decision serve` command in a child process, as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path


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
