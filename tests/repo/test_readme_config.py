"""The README's configuration table lists exactly the Settings fields, with their env names."""

from __future__ import annotations

import re
from pathlib import Path

from decision.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_configuration_table_matches_settings() -> None:
    section = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `DECISION_([A-Z_]+)` \| `--([a-z-]+)` \|", section, re.M)
    assert documented, "no configuration table found"
    fields = list(Settings.model_fields)
    assert [env.lower() for env, _ in documented] == fields
    assert [flag.replace("-", "_") for _, flag in documented] == fields
