"""From observations to the exit status, the verdict lines and the files, without a server."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bench.soak.drive import Soaked
from bench.soak.options import EXIT_FAILED, EXIT_NOT_FLAT, parse_args
from bench.soak.progress import Progress
from bench.soak.reloads import RuleReloads
from bench.soak.sampler import Sample
from bench.soak.scrape import MetricsWatch
from bench.soak.summary import conclude as summary_conclude
from bench.soak.world import REPO

SECONDS = 200
PER_SECOND = 5


def observed_soak(rss: np.ndarray, reloads: RuleReloads | None = None) -> Soaked:
    """A reload-only soak that started its loads at t=10 and ran to its target."""
    start = 10
    samples = [
        Sample(float(t), float(value), 20, 15, {"reloads": max(0, t - start) * PER_SECOND}, 0)
        for t, value in enumerate(rss)
    ]
    marks = np.linspace(start, SECONDS, 5).tolist()
    target = (SECONDS - start) * PER_SECOND
    return Soaked({"reloads": target}, samples, {"reloads": marks}, float(start), None, reloads, None, ())


def conclude(tmp_path: Path, observed: Soaked) -> int:
    args = parse_args(["--out", str(tmp_path / "out"), "--only", "reloads"])
    return summary_conclude(observed, args, started=0.0, load_before=[1.0, 1.0, 1.0])


def test_a_leak_exits_not_flat_and_names_the_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    leaking = 300 + 0.2 * np.clip(np.arange(SECONDS + 1) - 10, 0, None) * PER_SECOND
    assert conclude(tmp_path, observed_soak(leaking)) == EXIT_NOT_FLAT
    printed = capsys.readouterr().out
    assert "NOT FLAT: reloads: last quarter's mean RSS" in printed
    document = json.loads((tmp_path / "out" / "soak.json").read_text())
    assert [v["verdict"] for v in document["verdicts"]] == ["NOT FLAT: RSS", "NOT FLAT: RSS"]
    assert document["not_flat"]
    for name in ("table.txt", "memory.png", "soak.html"):
        assert (tmp_path / "out" / name).stat().st_size > 0


def test_flat_memory_and_every_call_answered_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert conclude(tmp_path, observed_soak(np.full(SECONDS + 1, 300.0))) == 0
    assert "OK: memory flat for every load and overall" in capsys.readouterr().out


def test_a_change_not_activated_fails_even_when_flat(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    reloads = RuleReloads(rules, MetricsWatch(1, 1, 1.0), Progress({"reloads": 1}, lockstep=False, clock_zero=0.0), 1.0)
    reloads.errors["ruleset not activated within 1 s"] += 2
    assert conclude(tmp_path, observed_soak(np.full(SECONDS + 1, 300.0), reloads)) == EXIT_FAILED
    assert "FAILED: ruleset not activated within 1 s x2" in capsys.readouterr().out
    document = json.loads((tmp_path / "out" / "soak.json").read_text())
    assert document["errors"] == {"ruleset not activated within 1 s": 2}
