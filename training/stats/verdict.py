"""When a segment may stop: the verdict read from its arms' always-valid intervals and the planned sample."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

CONTINUE = "continue"
NO_EFFECT = "stop: no effect"


@dataclass(frozen=True)
class Verdict:
    verdict: str
    winner: str


def segment_verdict(arms: pd.DataFrame, control_arm: str, planned_users_per_arm: int | None) -> Verdict:
    """`arms`: one segment's rows (columns arm, exposures, abs_lift, seq_low, seq_high).

    - some arm's sequential interval lies above 0: "stop: <arm> wins" (the best such arm);
    - every other arm's interval lies below 0: "stop: <control> wins";
    - every arm, control included, has reached the planned sample and none wins: "stop: no effect";
    - otherwise "continue". Without a planned sample the last case never applies.
    """
    treated = arms[arms["arm"] != control_arm]
    better = treated[treated["seq_low"] > 0]
    if not better.empty:
        best = str(better.sort_values("abs_lift", ascending=False)["arm"].iloc[0])
        return Verdict(f"stop: {best} wins", best)
    if not treated.empty and bool((treated["seq_high"] < 0).all()):
        return Verdict(f"stop: {control_arm} wins", control_arm)
    if planned_users_per_arm is not None and bool((arms["exposures"] >= planned_users_per_arm).all()):
        return Verdict(NO_EFFECT, "")
    return Verdict(CONTINUE, "")
