"""`simulate`: drive a running decision server with simulated users and write the ground truth.

Each batch: pick users and moments (the traffic stream: the same seed asks the same
questions whatever the server answers), DecideBatch, look up the true click probability
of every shown item, sample the users' reactions (reaction.py), and report an impression
per answered decision, a click per clicked item and a conversion with its order value,
each with its own idempotency key. Stops after `decisions` or `max_seconds`, whichever
comes first (checked between batches), or at Ctrl-C, and writes what it has.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tqdm import tqdm

from training import defaults
from training.traffic.exchange import Answer, Ask, DecisionApi, OutcomeReport, Refusal
from training.traffic.ground_truth import GroundTruth
from training.traffic.lift import Lift, parse_lift
from training.traffic.moment import Moment, MomentStream
from training.traffic.population import DEFAULT_CONSENT_SHARE, SIMULATION_START, SimUser, draw_population
from training.traffic.reaction import Reaction, Reactions
from training.traffic.summary import SimulationSummary
from training.traffic.target import loopback_target
from training.traffic.truth_table import Truths, TruthTable

DEFAULT_USERS = 10_000
DEFAULT_BATCH = 64
MAX_BATCH = 1_000  # DecideBatch's limit
CLICK_DELAY = timedelta(seconds=8)
CONVERSION_DELAY = timedelta(minutes=12)
_KEPT_REASONS = 5


def simulate(
    target: str,
    decisions: int,
    seed: int = 0,
    plants: Iterable[Lift | str] = (),
    max_seconds: float | None = None,
    out: Path | None = None,
    *,
    users: int = DEFAULT_USERS,
    population: Sequence[SimUser] | None = None,
    consent_share: float = DEFAULT_CONSENT_SHARE,
    world_seed: int = defaults.SEED,
    batch_size: int = DEFAULT_BATCH,
    max_results: int = 1,
    start: datetime = SIMULATION_START,
    days: float = 7.0,
    progress: bool = True,
    api: DecisionApi | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> SimulationSummary:
    """Simulate `decisions` decisions against the loopback server at `target`; the truth goes to `out` (Parquet).

    `plants` are Lift values or specs like "content=home-3,segment=loyal,lift=0.10";
    `population` replaces the `users` drawn from `seed` (e.g. world_users.users_from);
    `api` replaces the gRPC client and `clock` the time limit's clock (tests).
    """
    target = loopback_target(target)
    _check(decisions, batch_size, max_results, max_seconds, days)
    truth = GroundTruth(world_seed, [p if isinstance(p, Lift) else parse_lift(p) for p in plants])
    people = list(population) if population is not None else draw_population(users, seed, consent_share, start)
    if not people:
        raise ValueError("the population is empty: give at least one user")
    with contextlib.ExitStack() as stack:
        if api is None:
            from training.traffic.client import GrpcDecisionApi

            api = stack.enter_context(GrpcDecisionApi(target))
        run = _Run(api, truth, MomentStream(people, seed, start, days), seed, max_results)
        bar = stack.enter_context(tqdm(total=decisions, unit="dec", desc="simulate", disable=not progress))
        began = clock()
        stopped_by = "decisions"
        try:
            while run.asked < decisions:
                if max_seconds is not None and clock() - began >= max_seconds:
                    stopped_by = "time"
                    break
                bar.update(run.batch(min(batch_size, decisions - run.asked)))
        except KeyboardInterrupt:
            stopped_by = "interrupted"
        tally = api.finish()
        elapsed = clock() - began
    if out is not None:
        run.table.write(out)
    return SimulationSummary(
        target, seed, run.asked, run.refused, tuple(run.reasons), tally, elapsed, stopped_by, out, run.table.frame()
    )


def _check(decisions: int, batch_size: int, max_results: int, max_seconds: float | None, days: float) -> None:
    if decisions < 1:
        raise ValueError(f"decisions {decisions}: simulate at least 1")
    if not 1 <= batch_size <= MAX_BATCH:
        raise ValueError(f"batch size {batch_size}: use 1 to {MAX_BATCH} (DecideBatch's limit)")
    if not 1 <= max_results <= 50:
        raise ValueError(f"max results {max_results}: use 1 to 50, as DecideRequest.max_results allows")
    if max_seconds is not None and max_seconds <= 0:
        raise ValueError(f"max seconds {max_seconds}: give a positive time limit, or none")
    if days <= 0:
        raise ValueError(f"days {days}: the simulated period must be positive")


class _Run:
    """The state of one simulation: streams, counters and the rows collected so far."""

    def __init__(
        self, api: DecisionApi, truth: GroundTruth, traffic: MomentStream, seed: int, max_results: int
    ) -> None:
        self.api, self.truth, self.traffic = api, truth, traffic
        self.seed, self.max_results = seed, max_results
        self.reactions = Reactions(seed, max_results)
        self.table = TruthTable()
        self.asked = self.refused = 0
        self.reasons: list[str] = []

    def batch(self, size: int) -> int:
        """Ask, react and report `size` decisions; returns `size`.

        Rows and counters change only once the batch's outcomes are sent, so a run stopped
        by Ctrl-C keeps whole batches: every row written had its outcomes reported.
        """
        asks = [
            Ask(f"sim-{self.seed}-{i}", user, moment, self.max_results)
            for i, (user, moment) in enumerate(self.traffic.take(size), start=self.asked)
        ]
        answers = self.api.decide(asks)
        rows: list[tuple[int, Ask, Answer, Truths, Reaction]] = []
        refusals: list[Refusal] = []
        outcomes: list[OutcomeReport] = []
        for index, (ask, answer) in enumerate(zip(asks, answers, strict=True), start=self.asked):
            if isinstance(answer, Refusal):
                self.reactions.react(index, (), 0.0)  # keeps the random numbers of later decisions aligned
                refusals.append(answer)
                continue
            truths = self.truths(ask.user, ask.moment, answer)
            reaction = self.reactions.react(index, truths.click_p, truths.conversion_p)
            rows.append((index, ask, answer, truths, reaction))
            outcomes.extend(outcome_reports(ask.user, ask.moment, answer, reaction))
        self.api.report(outcomes)
        for index, ask, answer, truths, reaction in rows:
            self.table.add(index, ask.user, ask.moment, answer, truths, reaction)
        self.refused += len(refusals)
        self.reasons.extend(f"{r.field}: {r.message}" for r in refusals[: max(0, _KEPT_REASONS - len(self.reasons))])
        self.asked += size
        return size

    def truths(self, user: SimUser, moment: Moment, answer: Answer) -> Truths:
        click_p = self.truth.click_probabilities(user, [item.content_id for item in answer.items], moment)
        best_id, best_p = self.truth.best(user, moment, answer.decided_at)
        return Truths(click_p, self.truth.conversion_probability(user), best_id, best_p)


def outcome_reports(user: SimUser, moment: Moment, answer: Answer, reaction: Reaction) -> list[OutcomeReport]:
    """An impression (of the whole answer), the clicks and the conversion of one decision, each with its own key."""
    if not answer.items:
        return []
    d = answer.decision_id
    # Outcomes are joined to decisions on the server's clock; the simulated moment only shapes behaviour.
    shown_at = answer.decided_at or datetime.now(UTC)

    def report(kind: str, content_id: str, at: datetime, key: str, value: float = 0.0) -> OutcomeReport:
        return OutcomeReport(d, kind, content_id, at, key, value, user.user_id if user.consent else "", user.consent)

    reports = [report("impression", "", shown_at, f"sim|{d}|impression")]  # no content: the whole answer was shown
    for item, clicked in zip(answer.items, reaction.clicked, strict=True):
        if clicked:
            reports.append(
                report("click", item.content_id, shown_at + CLICK_DELAY, f"sim|{d}|click|{item.content_id}")
            )
    if reaction.converted_rank is not None:
        content_id = answer.items[reaction.converted_rank - 1].content_id
        at = shown_at + CONVERSION_DELAY
        reports.append(report("conversion", content_id, at, f"sim|{d}|conversion", reaction.value))
    return reports
