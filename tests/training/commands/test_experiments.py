"""`training experiments plan|analyze|conclude` end to end on a joined table with a planted winner."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from decision.tiers.experiments.assign import assign
from decision.tiers.experiments.casefile import compile_and_test
from tests.decision.tiers.experiments.conftest import context
from tests.training.stats.synthetic import joined_table
from training.cli import main

EXPERIMENTS = """# Home banner copy test (this comment must survive `conclude`)
version: "2026.12.01-1"
experiments:
  - id: exp-1
    placements: [home_banner]
    metric: click
    guardrails: [conversion]
    arms:
      - {id: control, control: true}
      - {id: warm, content: [hero_warm]}  # the challenger
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "experiments"
    folder.mkdir()
    (folder / "home.yaml").write_text(EXPERIMENTS)
    rates = {
        ("loyal", "control"): 0.05,
        ("loyal", "warm"): 0.09,  # a planted winner in one segment
        ("new", "control"): 0.05,
        ("new", "warm"): 0.05,
    }
    joined = tmp_path / "joined.parquet"
    joined_table(rates, 800, 14, seed=4).to_parquet(joined)
    return folder, joined


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_plan_prints_both_designs() -> None:
    out = run("experiments", "plan", "--baseline", "0.05", "--mde", "0.1", "--comparisons", "5", "--daily", "6000")
    assert "fixed horizon (one look)" in out
    assert "sequential (daily looks)" in out


def test_analyze_reads_the_file_finds_the_winner_and_writes_guardrail_gauges(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    folder, joined = files
    prom = tmp_path / "metrics" / "experiments.prom"
    html = tmp_path / "report.html"
    out = run(
        "experiments", "analyze", "exp-1", "--joined", str(joined), "--experiments", str(folder),
        "--html", str(html), "--prom-textfile", str(prom),
    )  # fmt: skip
    assert "stop: warm wins" in out
    assert html.read_text().startswith("<!doctype html>")
    gauges = prom.read_text()
    assert (
        'decision_experiment_guardrail_degraded{arm="warm",experiment="exp-1",metric="conversion",segment="loyal"} 0.0'
        in gauges
    )


def test_conclude_writes_a_valid_new_version_that_serves_the_winner(files: tuple[Path, Path]) -> None:
    folder, joined = files
    out = run("experiments", "conclude", "exp-1", "--joined", str(joined), "--experiments", str(folder))
    assert "winners loyal -> warm" in out
    text = (folder / "home.yaml").read_text()
    assert "# Home banner copy test (this comment must survive `conclude`)" in text
    assert "# the challenger" in text
    concluded = compile_and_test(folder)
    assert concluded.version.startswith("2026.12.01-1-concluded-")
    assert len(concluded.experiments) == 1
    for user in ("a", "b", "c", "d"):
        loyal = assign(concluded, context(user, segment="loyal"))
        other = assign(concluded, context(user, segment="new"))
        assert loyal is not None
        assert other is not None
        assert (loyal.arm.id, loyal.probability) == ("warm", 1.0)
        assert (other.arm.id, other.probability) == ("control", 1.0)


def test_analyze_without_a_joined_table_says_what_to_run(files: tuple[Path, Path], tmp_path: Path) -> None:
    folder, _ = files
    result = CliRunner().invoke(
        main,
        ["experiments", "analyze", "exp-1", "--joined", str(tmp_path / "none.parquet"), "--experiments", str(folder)],
    )
    assert result.exit_code == 1
    assert "run `training join` first" in result.output
