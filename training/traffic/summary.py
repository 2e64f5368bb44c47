"""What a simulation run did: decisions by source and tier, clicks and conversions against the truth, speed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from training.report.table import render, render_frame
from training.traffic.exchange import ReportTally


@dataclass(frozen=True)
class SimulationSummary:
    target: str
    seed: int
    asked: int  # decisions asked for
    refused: int  # batch entries the server answered with an error
    refusal_reasons: tuple[str, ...]
    outcomes: ReportTally
    elapsed_seconds: float
    stopped_by: str  # "decisions", "time" or "interrupted"
    out: Path | None
    truths: pd.DataFrame  # the ground-truth rows (truth_table.COLUMNS)

    @property
    def decisions(self) -> int:
        """Decisions answered."""
        return len(self.truths)

    @property
    def decisions_per_second(self) -> float:
        return self.asked / self.elapsed_seconds if self.elapsed_seconds > 0 else float("nan")

    @property
    def clicks(self) -> int:
        return int(self.truths["clicks"].sum())

    @property
    def conversions(self) -> int:
        return int(self.truths["conversion"].sum())

    @property
    def order_value(self) -> float:
        return float(self.truths["value"].sum()) if self.decisions else 0.0

    @property
    def mean_p_click(self) -> float:
        """Mean true click probability of the rank-1 items shown."""
        return float(self.truths["p_click"].mean()) if self.decisions else float("nan")

    def count_by(self, column: str) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.truths[column].value_counts().sort_index().items()}

    def by(self, column: str) -> pd.DataFrame:
        """Per value of `column`: decisions, rank-1 clicks, observed rate with its Wilson 95 % interval, mean truth."""
        grouped = self.truths.groupby(column, observed=True).agg(
            decisions=("click", "size"),
            clicks=("click", "sum"),
            mean_p_click=("p_click", "mean"),
            mean_p_best=("p_best", "mean"),
            conversions=("conversion", "sum"),
        )
        low, high = proportion_confint(grouped["clicks"], grouped["decisions"], alpha=0.05, method="wilson")
        grouped.insert(2, "click_rate", grouped["clicks"] / grouped["decisions"])
        grouped.insert(3, "ci95_low", low)
        grouped.insert(4, "ci95_high", high)
        return grouped.reset_index()

    def table(self) -> str:
        """The summary as printed at the end of a run."""
        head = [
            f"simulated {self.asked:,} decisions against {self.target} (seed {self.seed}) in "
            f"{self.elapsed_seconds:.1f} s: {self.decisions_per_second:,.0f} decisions/s; stopped by {self.stopped_by}",
            f"answered {self.decisions:,}, refused {self.refused:,}"
            + (f" (first: {self.refusal_reasons[0]})" if self.refusal_reasons else ""),
            f"outcomes accepted {self.outcomes.accepted:,}, duplicates {self.outcomes.duplicates:,}, "
            f"refused {self.outcomes.refused:,}"
            + (f" (first: {self.outcomes.reasons[0]})" if self.outcomes.reasons else ""),
            f"clicks {self.clicks:,}, conversions {self.conversions:,}, order value {self.order_value:,.2f}; "
            f"mean true P(click) {self.mean_p_click:.4f}",
        ]
        if self.out is not None:
            head.append(f"ground truth: {self.out}")
        if not self.decisions:
            return "\n".join(head)
        tiers = render(["tier", "decisions"], sorted(self.count_by("tier").items()))
        return "\n\n".join(["\n".join(head), render_frame(self.by("source")), render_frame(self.by("segment")), tiers])
