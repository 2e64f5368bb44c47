"""The soak harness works end to end at tiny counts: a real server, every load, every output.

It checks the mechanics only. Whether memory is flat is not asserted: at these counts the
verdict is noise (and on a branch with the rules-reload leak it is rightly "not flat").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.soak.options import EXIT_NOT_FLAT

REPO = Path(__file__).resolve().parents[2]
TARGETS = {"decisions": 2_000, "reloads": 50, "swaps": 5}


def test_tiny_soak_answers_every_call_and_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "soak"
    command = [
        sys.executable, "-m", "bench.soak", "--out", str(out), "--users", "500",
        *(f"--{name}={count}" for name, count in TARGETS.items()),
        "--sample-seconds", "0.2", "--progress-seconds", "5",
    ]  # fmt: skip
    temporary = tmp_path / "tmp"  # where the world folder goes (TMPDIR), removed at the end
    temporary.mkdir()
    environment = {**os.environ, "TMPDIR": str(temporary)}
    done = subprocess.run(command, capture_output=True, text=True, timeout=110, check=False, cwd=REPO, env=environment)
    assert done.returncode in (0, EXIT_NOT_FLAT), done.stdout[-3000:] + done.stderr[-3000:]

    document = json.loads((out / "soak.json").read_text())
    assert document["done"] == TARGETS
    assert document["errors"] == {}
    assert document["failures"] == []
    traffic = document["traffic"]
    assert sum(traffic["answers"].values()) == TARGETS["decisions"]
    assert {key.split(":")[0] for key in traffic["answers"]} == {"rule", "model"}
    assert traffic["outcomes"] > 0
    quarters = {row["phase"]: row for row in document["quarters"]}
    assert list(quarters) == ["before loads", "Q1", "Q2", "Q3", "Q4"]
    for name, target in TARGETS.items():
        assert sum(row[name] for row in quarters.values()) == target
    assert all(row["RSS mean MiB"] > 0 and row["threads"] > 0 and row["fds"] > 0 for row in quarters.values())
    verdicts = {row["load"]: row for row in document["verdicts"]}
    assert list(verdicts) == [*TARGETS, "overall"]
    for row in verdicts.values():
        assert row["verdict"] == "flat" or row["verdict"].startswith("NOT FLAT: ")
        assert row["Q2 RSS MiB"] > 0
        assert row["Q4 RSS MiB"] > 0
    said_flat = [row["verdict"] == "flat" for row in verdicts.values()]
    assert (done.returncode == 0) == all(said_flat)
    assert len(document["samples"]) > 20

    assert (out / "memory.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out / "soak.html").read_text()
    assert "data:image/png;base64," in page
    assert "Flatness" in page
    table = (out / "table.txt").read_text()
    assert "Q4" in table
    assert "overall" in table
    assert "activated" in (out / "server.log").read_text()
    assert not any(temporary.iterdir()), "the world folder (decision log, registry) must be removed"


def test_soak_has_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.soak", "--help"], capture_output=True, text=True, timeout=60, check=True, cwd=REPO
    )
    assert "--only" in done.stdout
    assert "exit status" in done.stdout
