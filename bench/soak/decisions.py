"""Traffic: Decide and DecideBatch for many distinct users, half of them on the rule path, plus outcomes.

Every call the load makes is valid, so every one must be answered with status OK; a non-OK
status, or a batch entry answered with an error, is counted by kind and fails the soak.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from dataclasses import dataclass, field

import grpc

from bench.decide_cases import load_request
from bench.soak.progress import Progress
from decision.v1 import decision_service_pb2 as pb
from decision.v1 import decision_service_pb2_grpc as pb_grpc

NAME = "decisions"
USER_ID = "u{:07d}"  # the ids `training generate` writes: the first ones have a profile
EXPECTED = {"rule": pb.DECISION_SOURCE_RULE, "model": pb.DECISION_SOURCE_MODEL}


@dataclass(frozen=True)
class TrafficShape:
    """How the decisions are sent."""

    users: int
    batch_size: int
    single_every: int  # every n-th call is one Decide instead of a DecideBatch
    outcome_every: int  # after every n-th call, a ReportOutcome (a click) on one of its decisions
    clients: int  # threads, each with its own connection
    timeout_s: float


@dataclass
class TrafficCounts:
    """What the traffic got back; `errors` by kind, `answers` by path and deciding source."""

    calls: int = 0
    outcomes: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def unexpected(self) -> int:
        """Answers not from the tier the request was meant for (e.g. DEFAULT when the batch's
        time budget ran out before the model): answered, so not errors, but worth a look."""
        return sum(n for key, n in self.answers.items() if not key.endswith(":expected"))


class Traffic:
    """The decision load: `clients` threads share the target through `progress`."""

    def __init__(self, port: int, shape: TrafficShape, progress: Progress) -> None:
        self._port = port
        self._shape = shape
        self._progress = progress
        self._templates = {"rule": load_request("decide_rule"), "model": load_request("decide_model")}
        self._calls = itertools.count()
        self._next_user = itertools.count()
        self.counts = TrafficCounts()

    def run(self) -> None:
        """Send until the target is reached (blocking); then mark the load finished."""
        threads = [
            threading.Thread(target=self._client, name=f"soak-traffic-{i}", daemon=True)
            for i in range(self._shape.clients)
        ]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            self._progress.finish(NAME)

    def _client(self) -> None:
        # Its own connection (no shared subchannel): with --processes N the kernel may hand it to any process.
        options = [("grpc.use_local_subchannel_pool", 1)]
        with grpc.insecure_channel(f"127.0.0.1:{self._port}", options=options) as channel:
            stub = pb_grpc.DecisionServiceStub(channel)
            while True:
                call = next(self._calls)
                single = self._shape.single_every > 0 and call % self._shape.single_every == 0
                granted = self._progress.claim(NAME, 1 if single else self._shape.batch_size)
                if granted == 0:
                    return
                requests = [self._request(next(self._next_user)) for _ in range(granted)]
                answered = self._decide(stub, requests, single)
                if answered and self._shape.outcome_every > 0 and call % self._shape.outcome_every == 0:
                    self._report_outcome(stub, answered[0])
                self._progress.done(NAME, granted)

    def _request(self, index: int) -> tuple[str, pb.DecideRequest]:
        path = "rule" if index % 2 == 0 else "model"
        request = pb.DecideRequest()
        request.CopyFrom(self._templates[path])
        request.user_id = USER_ID.format(index % self._shape.users)
        request.request_id = f"soak-{index}"
        return path, request

    def _decide(
        self, stub: pb_grpc.DecisionServiceStub, requests: list[tuple[str, pb.DecideRequest]], single: bool
    ) -> list[pb.DecideResponse]:
        """The answers (counted by path and source); none when the call failed."""
        timeout = self._shape.timeout_s
        results: list[pb.DecideResponse | None]
        try:
            if single:
                results = [stub.Decide(requests[0][1], timeout=timeout)]
            else:
                reply = stub.DecideBatch(pb.DecideBatchRequest(requests=[r for _, r in requests]), timeout=timeout)
                results = self._batch_answers(reply, len(requests))
        except grpc.RpcError as exc:
            self._count_error(f"{'Decide' if single else 'DecideBatch'}: {exc.code().name}")
            return []
        answered = []
        with self.counts.lock:
            self.counts.calls += 1
            for (path, _), response in zip(requests, results, strict=False):
                if response is None:
                    continue
                verdict = "expected" if response.source == EXPECTED[path] else pb.DecisionSource.Name(response.source)
                self.counts.answers[f"{path}:{verdict}"] += 1
                answered.append(response)
        return answered

    def _batch_answers(self, reply: pb.DecideBatchResponse, sent: int) -> list[pb.DecideResponse | None]:
        """One entry per request sent: its answer, or None for an entry answered with an error."""
        if len(reply.results) != sent:
            self._count_error(f"DecideBatch: {len(reply.results)} results for {sent} requests")
        answers: list[pb.DecideResponse | None] = []
        for result in reply.results:
            if result.WhichOneof("outcome") == "response":
                answers.append(result.response)
            else:
                answers.append(None)
                self._count_error(f"DecideBatch entry: code {result.error.code} on {result.error.field or '-'}")
        return answers

    def _report_outcome(self, stub: pb_grpc.DecisionServiceStub, decision: pb.DecideResponse) -> None:
        outcome = pb.ReportOutcomeRequest(decision_id=decision.decision_id, outcome_type="click")
        if decision.items:
            outcome.content_id = decision.items[0].content_id
        try:
            stub.ReportOutcome(outcome, timeout=self._shape.timeout_s)
        except grpc.RpcError as exc:
            self._count_error(f"ReportOutcome: {exc.code().name}")
            return
        with self.counts.lock:
            self.counts.outcomes += 1

    def _count_error(self, kind: str) -> None:
        with self.counts.lock:
            self.counts.errors[kind] += 1
