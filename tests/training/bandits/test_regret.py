"""The regret study: known regret of the fixed split, Thompson's target, and the report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from decision.tiers.experiments.allocation import BetaThompson, FixedWeights
from training.bandits.regret import DEFAULT_ARM_RATES, FIXED_SPLIT, simulate_regret
from training.bandits.regret_report import report_regret

THOMPSON = "Thompson (Beta)"


def test_thompson_loses_at_most_half_what_a_fixed_split_loses_over_100000_decisions() -> None:
    run = simulate_regret(modes={THOMPSON: BetaThompson(), FIXED_SPLIT: FixedWeights()}, refresh=1_000, seed=0)
    assert run.final_regret(THOMPSON) <= 0.5 * run.final_regret(FIXED_SPLIT)
    best_share = run.frame().set_index("mode")["final best-arm share"]
    assert best_share[THOMPSON] > 0.9
    assert run.clicks[THOMPSON] > run.clicks[FIXED_SPLIT]


def test_the_fixed_split_loses_the_average_gap_to_the_best_arm_per_decision() -> None:
    run = simulate_regret(modes={FIXED_SPLIT: FixedWeights()}, decisions=20_000, refresh=500, seed=1)
    gap = np.mean([max(rates) - np.mean(rates) for rates in DEFAULT_ARM_RATES.values()])
    assert run.final_regret(FIXED_SPLIT) == pytest.approx(20_000 * gap, rel=0.02)
    assert list(run.cumulative.index[:2]) == [500, 1_000]
    assert run.cumulative.index[-1] == 20_000


def test_the_default_segments_each_have_a_different_best_arm() -> None:
    best = [int(np.argmax(rates)) for rates in DEFAULT_ARM_RATES.values()]
    assert len(set(best)) == len(best)
    assert all(0.02 <= rate <= 0.12 for rates in DEFAULT_ARM_RATES.values() for rate in rates)


def test_a_refresh_longer_than_the_run_is_refused() -> None:
    with pytest.raises(ValueError, match=r"need 1 <= refresh \(500\) <= decisions \(100\)"):
        simulate_regret(decisions=100, refresh=500)


def test_the_report_prints_the_table_and_plots_regret_over_time(tmp_path: Path) -> None:
    lines: list[str] = []
    run = simulate_regret(modes={FIXED_SPLIT: FixedWeights()}, decisions=2_000, refresh=500)
    report_regret(run, tmp_path / "regret.html", lines.append)
    assert lines[0].startswith("2,000 simulated decisions over 4 segments (16 arms in all)")
    assert "fixed equal split" in lines[0]
    page = (tmp_path / "regret.html").read_text()
    assert "data:image/png;base64,iVBOR" in page
    assert '<td class="label">loyal</td><td class="label">arm 1</td><td>0.120</td>' in page
