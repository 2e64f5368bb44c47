"""From an experiment's analysis to its conclusion: each segment's winner, with the evidence.

A segment whose verdict is "stop: <arm> wins" gets that arm; every other segment (still
running, no effect, too few users) gets the default arm, normally control: concluding never
rolls out an arm the data did not pick. The evidence is the verdicts and the lifts with their
always-valid intervals, as text the experiment file keeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from training.stats.analysis import ExperimentAnalysis
from training.stats.experiment_table import ALL_SEGMENTS


@dataclass(frozen=True)
class Conclusion:
    concluded_at: datetime
    default: str
    winners: dict[str, str]
    evidence: str

    def as_yaml(self) -> dict[str, object]:
        """The experiment file's `conclusion:` block."""
        return {
            "concluded_at": self.concluded_at.isoformat(),
            "default": self.default,
            "winners": dict(self.winners),
            "evidence": self.evidence,
        }


def conclude(analysis: ExperimentAnalysis, now: datetime, default: str | None = None) -> Conclusion:
    """Winners per segment from the verdicts; `default` (control if None) for every other user.

    The pooled "all" segment's verdict is reported in the evidence but rolls nothing out: a
    pooled win can be one segment's win, and the others keep control unless told otherwise.
    """
    winners = {}
    lines = [
        f"analysis at {now.isoformat()}: metric {analysis.metric}, control {analysis.control_arm}, "
        f"alpha {analysis.alpha} (always-valid at {analysis.sequential_alpha:.4g})"
    ]
    arms = analysis.arms
    for row in analysis.verdicts.itertuples():
        segment = str(row.segment)
        winner = str(row.winner)
        lines.append(f"{segment}: {row.verdict}")
        if winner and winner != analysis.control_arm:
            found = arms[(arms["segment"] == segment) & (arms["arm"] == winner)]
            if not found.empty:
                r = found.iloc[0]
                lines.append(
                    f"  {winner}: {int(r['exposures']):,} exposures, lift {r['abs_lift']:+.4g} "
                    f"(always-valid [{r['seq_low']:+.4g}, {r['seq_high']:+.4g}]), relative {r['rel_lift']:+.1%}"
                )
        if winner and segment != ALL_SEGMENTS:
            winners[segment] = winner
    return Conclusion(now, default or analysis.control_arm, winners, "\n".join(lines))
