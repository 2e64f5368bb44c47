"""The functions `training ope` calls: the printed table and the HTML page, on simulated and real logs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.training.ope.test_obd import MISSING, OBD
from training.ope.command import check_on_open_bandit_data, evaluate_policy, read_logs
from training.ope.logged import LogError, LoggedFeedback
from training.ope.run import OpeConfig
from training.ope.simulate import make_world, simulate_logs


def test_evaluate_policy_prints_the_table_and_writes_a_page_with_two_plots(tmp_path: Path) -> None:
    lines: list[str] = []
    logged = simulate_logs(make_world(0), 5_000, seed=3)
    result = evaluate_policy(logged, "uniform", tmp_path / "ope.html", lines.append, OpeConfig(replicates=200))
    printed = "\n".join(lines)
    assert "reward model: 3-fold cross-fit on 5,000 decisions" in printed
    assert "Policy 'uniform random'" in printed
    table = printed[printed.index("estimator") :].splitlines()
    assert table[0].split() == ["estimator", "value", "95%", "low", "95%", "high", "SE", "ESS", "flag"]
    assert [row.split()[0] for row in table[2:6]] == ["IPS", "SNIPS", "DM", "DR"]
    assert result.estimate("IPS").flag == ""
    page = (tmp_path / "ope.html").read_text()
    assert page.count("data:image/png;base64,iVBOR") == 2
    assert "Off-policy evaluation: uniform random" in page


def test_a_thin_estimate_is_named_on_the_page(tmp_path: Path) -> None:
    logged = simulate_logs(make_world(0), 600, seed=3)
    evaluate_policy(logged, "fixed:c03", tmp_path / "thin.html", lambda _: None, OpeConfig(replicates=200))
    assert "Too thin to trust: IPS, SNIPS, DM, DR (ESS" in (tmp_path / "thin.html").read_text()


def test_the_open_bandit_check_prints_its_verdict_and_writes_its_page(tmp_path: Path) -> None:
    assert OBD.is_dir(), MISSING
    lines: list[str] = []
    config = OpeConfig(estimators=("IPS", "SNIPS"), replicates=200)
    check_on_open_bandit_data(tmp_path / "obd.html", lines.append, OBD, config)
    assert "IPS and SNIPS within 1.96 combined SE in every campaign: yes" in lines
    assert "women" in lines[0]
    assert "data:image/png;base64,iVBOR" in (tmp_path / "obd.html").read_text()


def test_decisions_logged_with_certainty_are_pointed_out(tmp_path: Path) -> None:
    logged = simulate_logs(make_world(0), 2_000, seed=3)
    certain = LoggedFeedback(
        **{**logged.__dict__, "propensity": np.where(np.arange(2_000) < 500, 1.0, logged.propensity)}
    )
    lines: list[str] = []
    config = OpeConfig(estimators=("IPS",), replicates=200)
    evaluate_policy(certain, "uniform", tmp_path / "certain.html", lines.append, config)
    assert "25.0% of the decisions were logged with probability 1" in "\n".join(lines)


def test_an_unknown_log_format_is_refused() -> None:
    with pytest.raises(LogError, match="unknown log format 'csv': use 'joined' or 'obd'"):
        read_logs(Path("x"), "csv")  # type: ignore[arg-type]
