"""A DecisionApi fake: answers like a small rules-then-catalog server, records every outcome."""

from __future__ import annotations

from collections.abc import Sequence

from training.traffic.exchange import Answer, Ask, OutcomeReport, Refusal, ReportTally, ShownItem
from training.truth import CONTENT_VOCAB


class FakeApi:
    """No consent: a rule's generic content; otherwise catalog content by the decision's number.

    `refuse_every` > 0 refuses every n-th ask; `interrupt_at_batch` raises KeyboardInterrupt
    on that (1-based) DecideBatch call, as Ctrl-C would.
    """

    def __init__(self, refuse_every: int = 0, interrupt_at_batch: int = 0) -> None:
        self.refuse_every = refuse_every
        self.interrupt_at_batch = interrupt_at_batch
        self.batches = 0
        self.asked = 0
        self.outcomes: list[OutcomeReport] = []

    def decide(self, asks: Sequence[Ask]) -> list[Answer | Refusal]:
        self.batches += 1
        if self.batches == self.interrupt_at_batch:
            raise KeyboardInterrupt
        answers: list[Answer | Refusal] = []
        for ask in asks:
            self.asked += 1
            if self.refuse_every and self.asked % self.refuse_every == 0:
                answers.append(Refusal(3, "too long", "context.region"))
            elif not ask.user.consent:
                hero = (ShownItem("generic_home_hero", 1.0),)
                answers.append(Answer(f"d-{self.asked}", "RULE", "rules", hero, rule_id="optout_home_banner"))
            else:
                items = tuple(
                    ShownItem(CONTENT_VOCAB[(self.asked + rank) % len(CONTENT_VOCAB)], 0.5)
                    for rank in range(ask.max_results)
                )
                answers.append(Answer(f"d-{self.asked}", "MODEL", "model", items, model_version="3"))
        return answers

    def report(self, outcomes: Sequence[OutcomeReport]) -> None:
        self.outcomes.extend(outcomes)

    def finish(self) -> ReportTally:
        return ReportTally(accepted=len(self.outcomes))
