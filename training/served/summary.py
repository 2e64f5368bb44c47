"""What a join counted: the records it read, kept, merged and could not place (printed and written as JSON)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

#: Unknown decision ids listed in the summary (the count is always complete).
SAMPLE_IDS = 20


@dataclass(frozen=True)
class JoinSummary:
    """Counts of one join; every outcome read ends up in exactly one of the outcome counts."""

    decision_files: int
    outcome_files: int
    decisions_read: int
    duplicate_decisions: int  # the same decision_id again (a re-shipped file): kept once
    outcomes_read: int
    duplicate_outcomes: int  # the same idempotency key again (replicas, restarts, retries): counted once
    unknown_decision: int  # for a decision_id no decision log holds
    before_window: int  # earlier than the decision by more than the clock-skew tolerance
    after_window: int  # later than the attribution window
    joined: int  # within the window: these make the counts of the table
    not_shown: int  # joined, but naming content the decision did not show: counted for the decision only
    open_windows: int  # decisions whose window ends after the last outcome received: rewards may be missing
    unknown_by_type: dict[str, int] = field(default_factory=dict)
    unknown_decision_ids: list[str] = field(default_factory=list)  # a sample, sorted

    def lines(self) -> list[str]:
        """The summary as the terminal shows it."""
        unknown = ", ".join(f"{kind} {n:,}" for kind, n in sorted(self.unknown_by_type.items()))
        return [
            f"decisions: {self.decisions_read:,} read from {self.decision_files} file(s), "
            f"{self.duplicate_decisions:,} duplicate(s) dropped",
            f"outcomes: {self.outcomes_read:,} read from {self.outcome_files} file(s): {self.joined:,} joined, "
            f"{self.duplicate_outcomes:,} duplicate(s), {self.unknown_decision:,} for unknown decisions"
            + (f" ({unknown})" if unknown else "")
            + f", {self.before_window:,} before and {self.after_window:,} after the window",
            f"joined outcomes naming content the decision did not show: {self.not_shown:,}",
            f"decisions whose window was still open at the last outcome: {self.open_windows:,}",
        ]

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        return path
