"""The checked-in stubs are exactly what `make proto` generates from protos/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_checked_in_stubs_match_the_protos(tmp_path: Path) -> None:
    script = ROOT / "scripts" / "generate_protos.py"
    subprocess.run([sys.executable, str(script), "--out", str(tmp_path)], check=True, capture_output=True)
    generated = {p.relative_to(tmp_path): p.read_bytes() for p in (tmp_path / "decision" / "v1").iterdir()}
    checked_in = {p.relative_to(ROOT): p.read_bytes() for p in (ROOT / "decision" / "v1").iterdir() if p.is_file()}
    assert sorted(generated) == sorted(checked_in), "run `make proto` and commit decision/v1"
    stale = [str(name) for name, content in generated.items() if checked_in[name] != content]
    assert not stale, f"stale generated files {stale}: run `make proto` and commit decision/v1"
