"""Real logs: the uniform policy's click rate estimated from the Open Bandit Dataset's Thompson-sampling logs.

The same campaigns were also logged under the uniform random policy, so its click rate is
measured directly there. The data is the sample the repository ships in data/obd
(data/README.md); without it these tests fail (they do not skip): the check is a target.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from training.ope.logged import LogError
from training.ope.obd import CONTEXT_COLUMNS, UniformCheck, read_obd, uniform_check
from training.ope.run import OpeConfig
from training.report.table import render_frame

OBD = Path(__file__).resolve().parents[3] / "data" / "obd"
MISSING = f"Open Bandit Dataset sample not found at {OBD}: these tests need it (see data/README.md)"


@functools.cache
def checked() -> UniformCheck:
    return uniform_check(OBD, OpeConfig(estimators=("IPS", "SNIPS"), replicates=300))


def test_ips_and_snips_from_the_bts_logs_agree_with_the_random_logs_within_the_combined_error() -> None:
    assert OBD.is_dir(), MISSING
    check = checked()
    assert len(check.rows) == 6  # 3 campaigns x (IPS, SNIPS)
    assert check.passed, render_frame(check.rows)
    assert (check.rows["z"].abs() <= 1.96).all()


def test_the_nearly_deterministic_women_campaign_is_flagged_with_a_handful_of_effective_decisions() -> None:
    assert OBD.is_dir(), MISSING
    rows = {(row["campaign"], row["estimator"]): row for row in checked().rows.to_dict("records")}
    assert rows["women", "IPS"]["ESS"] < 10
    assert str(rows["women", "IPS"]["flag"]).startswith("ESS 2.1 < 100")
    for campaign in ("all", "men"):
        assert rows[campaign, "SNIPS"]["ESS"] > 300
        assert rows[campaign, "SNIPS"]["flag"] == "ok"


def test_the_random_logs_propensity_is_per_slot_one_over_the_number_of_items() -> None:
    assert OBD.is_dir(), MISSING
    logged = read_obd(OBD / "random" / "all")
    assert len(logged.actions) == 80
    assert logged.propensity == pytest.approx(1 / 80)
    assert list(logged.contexts.columns) == list(CONTEXT_COLUMNS)
    assert sorted(logged.contexts["position"].unique()) == ["1", "2", "3"]


def test_a_missing_campaign_file_is_named_with_the_expected_layout(tmp_path: Path) -> None:
    with pytest.raises(LogError, match=r"random/all/all.csv not found: expected <root>/\{random,bts\}"):
        uniform_check(tmp_path)
    with pytest.raises(LogError, match="not found"):
        read_obd(tmp_path / "bts" / "men")
