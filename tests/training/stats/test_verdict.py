"""The stopping rule, case by case."""

from __future__ import annotations

import math

import pandas as pd

from training.stats.verdict import segment_verdict

NAN = math.nan


def _arms(*treated: tuple[str, float, float, int], control_n: int = 1_000) -> pd.DataFrame:
    rows = [{"arm": "control", "exposures": control_n, "abs_lift": NAN, "seq_low": NAN, "seq_high": NAN}]
    for arm, low, high, n in treated:
        rows.append({"arm": arm, "exposures": n, "abs_lift": (low + high) / 2, "seq_low": low, "seq_high": high})
    return pd.DataFrame(rows)


def test_the_best_arm_whose_interval_is_above_zero_wins() -> None:
    verdict = segment_verdict(_arms(("b", 0.01, 0.03, 1000), ("c", 0.02, 0.06, 1000)), "control", None)
    assert (verdict.verdict, verdict.winner) == ("stop: c wins", "c")


def test_control_wins_when_every_arm_is_worse() -> None:
    verdict = segment_verdict(_arms(("b", -0.03, -0.01, 1000)), "control", None)
    assert (verdict.verdict, verdict.winner) == ("stop: control wins", "control")


def test_no_effect_once_every_arm_reached_the_plan() -> None:
    assert (
        segment_verdict(_arms(("b", -0.01, 0.01, 5000), control_n=5000), "control", 5000).verdict == "stop: no effect"
    )
    assert segment_verdict(_arms(("b", -0.01, 0.01, 5000), control_n=4999), "control", 5000).verdict == "continue"


def test_without_a_plan_an_undecided_segment_continues() -> None:
    verdict = segment_verdict(_arms(("b", -0.01, 0.01, 10**6)), "control", None)
    assert (verdict.verdict, verdict.winner) == ("continue", "")
