"""One segment's rows: control first, lifts for the others, empty arms kept visible."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest

from training.stats.arm_comparison import SequentialSettings, compare_arms
from training.stats.proportions import compare_rates
from training.stats.sequential import confidence_sequence

SEQUENTIAL = SequentialSettings(alpha=0.05, planned_total_n=4_000)


def _clicks(successes: int, n: int) -> npt.NDArray[np.float64]:
    return np.concatenate([np.ones(successes), np.zeros(n - successes)])


def test_rates_rows_hold_the_fixed_and_sequential_figures() -> None:
    rows = compare_arms(
        "de", {"b": _clicks(150, 2000), "control": _clicks(100, 2000)}, "control", True, 0.05, SEQUENTIAL
    )
    control, arm = rows
    assert (control["arm"], arm["arm"]) == ("control", "b")
    assert math.isnan(float(control["abs_lift"]))
    expected = compare_rates(150, 2000, 100, 2000)
    assert arm["abs_lift"] == pytest.approx(expected.absolute)
    assert arm["p_value"] == pytest.approx(expected.p_value)
    sequence = confidence_sequence(expected.absolute, expected.standard_error, 4000, 4000, 0.05)
    assert (arm["seq_low"], arm["seq_high"]) == pytest.approx((sequence.low, sequence.high))
    assert float(arm["seq_low"]) < float(arm["abs_low"])
    assert arm["chance_to_beat"] == pytest.approx(1.0, abs=1e-3)
    assert float(arm["estimate_low"]) < float(arm["estimate"]) < float(arm["estimate_high"])


def test_an_arm_absent_from_the_segment_has_zero_exposures_and_no_lift() -> None:
    rows = compare_arms("fr", {"control": _clicks(10, 100), "b": np.zeros(0)}, "control", True, 0.05, SEQUENTIAL)
    assert rows[1]["exposures"] == 0
    assert math.isnan(float(rows[1]["abs_lift"]))
    assert math.isnan(float(rows[1]["seq_low"]))


def test_revenue_rows_use_welch_and_have_no_exact_interval() -> None:
    rng = np.random.default_rng(1)
    values = {"control": rng.exponential(1.0, 500), "b": rng.exponential(1.3, 500)}
    control, arm = compare_arms("all", values, "control", False, 0.05, SEQUENTIAL)
    assert control["estimate"] == pytest.approx(values["control"].mean())
    assert math.isnan(float(arm["exact_low"]))
    assert arm["abs_lift"] == pytest.approx(values["b"].mean() - values["control"].mean())
    assert 0.5 < float(arm["chance_to_beat"]) <= 1.0
