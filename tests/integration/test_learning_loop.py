"""The whole loop, end to end, with real components: a served champion, simulated users,
their outcomes, the join, a retrain on the event log plus served traffic, the promotion
verdict, and the KPI report checked against the simulator's ground truth."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from decision.runtime.app import App
from decision.runtime.server import build_server
from decision.settings import Settings
from decision.tiers.model.tier import ModelTier
from tests.integration.test_model_tier import wait_until
from training.cli import main as training_cli
from training.served.command import run_join, run_kpi
from training.traffic.command import run_simulate

REPO_RULES = Path(__file__).resolve().parents[2] / "rules"
CALENDAR_RULES = "region_promos.yaml"  # dated promos would answer instead of the model on their dates
MODEL = "nbc"
WORLD_SEED = 11
DECISIONS = 3_000


@dataclass(frozen=True)
class Loop:
    """What one served-and-simulated run left behind."""

    root: Path
    uri: str
    data: Path
    truth: Path
    joined: Path


def _quiet(_line: str) -> None:
    """Progress lines are not what these tests look at."""


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Loop:
    from training.workflow import run_bootstrap

    root = tmp_path_factory.mktemp("loop")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    data, profiles = root / "data", root / "profiles.jsonl"
    run_bootstrap(uri, MODEL, data, profiles, 6_000, WORLD_SEED, _quiet)
    rules = root / "rules"
    rules.mkdir()
    for path in REPO_RULES.glob("*.yaml"):
        if path.name != CALENDAR_RULES:
            shutil.copy(path, rules)
    settings = Settings(
        listen="127.0.0.1:0",
        metrics_port=0,
        rules_path=rules,
        experiments_path=root / "no-experiments",
        tracking_uri=uri,
        model_name=MODEL,
        model_poll_seconds=0.2,
        model_compile_timeout_seconds=0,
        model_cache_dir=root / "models",
        catalog_path=data / "catalog.json",
        profiles_path=profiles,
        segments_path=root / "segments.json",
        forgotten_path=root / "forgotten.keys",
        decision_log_path=root / "decisions.jsonl",
        outcome_log_path=root / "outcomes.jsonl",
    )
    app = App(settings)
    running = build_server(settings, app.decider, app.outcomes, app.live)
    app.start(running.mark_serving)
    model = app.tier("model")
    assert isinstance(model, ModelTier)
    wait_until(lambda: model.models.current is not None)
    truth = root / "truth.parquet"
    try:
        summary = run_simulate(
            f"127.0.0.1:{running.port}", DECISIONS, 1, (), None, truth, 2_000, data, 0.9,
            WORLD_SEED, 64, 1, _quiet,
        )  # fmt: skip
    finally:
        running.server.stop(1).wait()
        app.stop()  # flushes the decision and outcome logs
    assert summary.decisions == DECISIONS
    joined = root / "joined.parquet"
    run_join((str(settings.decision_log_path),), (str(settings.outcome_log_path),), joined, progress=False)
    return Loop(root, uri, data, truth, joined)


def test_every_simulated_decision_is_logged_and_joined_with_its_clicks(loop: Loop) -> None:
    truth = pd.read_parquet(loop.truth)
    joined = pd.read_parquet(loop.joined).set_index("decision_id")
    assert len(joined) == DECISIONS
    assert set(truth["decision_id"]) == set(joined.index)
    clicked = truth.set_index("decision_id")["click"].astype(bool)
    assert (joined.loc[clicked.index, "clicked"].astype(bool) == clicked).all()
    assert (joined["source"] == "MODEL").mean() > 0.5, "the champion, not a rule or the default, should serve most"


def test_kpi_click_rates_agree_with_the_ground_truth_within_their_intervals(loop: Loop, tmp_path: Path) -> None:
    kpis = run_kpi(loop.joined, tmp_path / "kpi.html", ("tier", "model"))
    assert (tmp_path / "kpi.html").is_file()
    truth = pd.read_parquet(loop.truth)
    served = pd.read_parquet(loop.joined, columns=["decision_id", "tier", "model_version"])
    truth = truth.merge(served, on="decision_id", suffixes=("", "_logged"))
    expected = {("all", "all"): truth["p_click"].mean()}
    for tier, group in truth.groupby("tier_logged"):
        expected["tier", str(tier)] = group["p_click"].mean()
    for version, group in truth[truth["model_version_logged"] != ""].groupby("model_version_logged"):
        expected["model", f"{MODEL} v{version}"] = group["p_click"].mean()
    checked = 0
    for row in kpis.itertuples():
        key = (str(row.dimension), str(row.value))
        if key not in expected or row.decisions < 100:
            continue
        assert row.click_low <= expected[key] <= row.click_high, (key, row.click_rate, expected[key])
        checked += 1
    assert checked >= 3  # all, the model tier, and the champion version at least


def test_retraining_on_served_traffic_registers_a_version_and_prints_the_promotion_verdict(loop: Loop) -> None:
    runner = CliRunner()
    registry = ["--tracking-uri", loop.uri, "--model-name", MODEL]
    trained = runner.invoke(
        training_cli,
        ["train", "--data", str(loop.data), "--served", str(loop.joined), "--rounds", "30",
         "--profiles-out", str(loop.root / "profiles-v2.jsonl"), *registry],
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    served = re.search(r"; (\d+) from served traffic", trained.output)
    assert served is not None, trained.output
    assert int(served.group(1)) > DECISIONS / 2
    verdict = runner.invoke(training_cli, ["promote", "--version", "2", *registry])
    assert verdict.exit_code == 0, verdict.output
    # Both versions are scored on v2's test split; it may or may not win, but it must say which.
    assert "candidate v2" in verdict.output
    assert "champion v1" in verdict.output
    assert "verdict:" in verdict.output
