"""The simulator's gRPC client: DecideBatch and ReportOutcomeBatch against a loopback server.

The only module of the simulator that imports grpc and the stubs. Outcome batches are sent
without waiting for the answer (at most MAX_REPORTS_IN_FLIGHT at a time), so the next
DecideBatch overlaps them; `finish` collects every answer.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType

import grpc

from decision.v1 import decision_service_pb2 as pb
from decision.v1 import decision_service_pb2_grpc as pb_grpc
from training.traffic.exchange import Answer, Ask, OutcomeReport, Refusal, ReportTally, ShownItem
from training.traffic.target import loopback_target

MAX_REPORTS_IN_FLIGHT = 4
CURRENCY = "EUR"
_KEPT_REASONS = 5


class ServerError(RuntimeError):
    """The server did not answer a whole call; the message names the call, the status and what to check."""


class GrpcDecisionApi:
    """DecisionApi over one insecure channel to a loopback target."""

    def __init__(self, target: str, timeout: float = 10.0) -> None:
        self.target = loopback_target(target)
        self._timeout = timeout
        self._channel = grpc.insecure_channel(self.target)
        self._stub = pb_grpc.DecisionServiceStub(self._channel)
        self._in_flight: deque[grpc.Future[pb.ReportOutcomeBatchResponse]] = deque()
        self._tally = ReportTally()

    def __enter__(self) -> GrpcDecisionApi:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._channel.close()

    def decide(self, asks: Sequence[Ask]) -> list[Answer | Refusal]:
        request = pb.DecideBatchRequest(requests=[decide_request(ask) for ask in asks])
        try:
            response = self._stub.DecideBatch(request, timeout=self._timeout)
        except grpc.RpcError as exc:
            raise self._error("DecideBatch", exc) from exc
        return [answer_from(result) for result in response.results]

    def report(self, outcomes: Sequence[OutcomeReport]) -> None:
        if not outcomes:
            return
        if len(self._in_flight) >= MAX_REPORTS_IN_FLIGHT:
            self._collect(self._in_flight.popleft())
        request = pb.ReportOutcomeBatchRequest(outcomes=[outcome_request(o) for o in outcomes])
        self._in_flight.append(self._stub.ReportOutcomeBatch.future(request, timeout=self._timeout))

    def finish(self) -> ReportTally:
        while self._in_flight:
            self._collect(self._in_flight.popleft())
        return self._tally

    def _collect(self, future: grpc.Future[pb.ReportOutcomeBatchResponse]) -> None:
        try:
            response = future.result()
        except grpc.RpcError as exc:
            raise self._error("ReportOutcomeBatch", exc) from exc
        for result in response.results:
            if result.WhichOneof("result") == "response":
                self._tally.accepted += 1
                self._tally.duplicates += result.response.duplicate
            else:
                self._tally.refused += 1
                if len(self._tally.reasons) < _KEPT_REASONS:
                    self._tally.reasons.append(result.error.message)

    def _error(self, call: str, exc: grpc.RpcError) -> ServerError:
        code = exc.code() if isinstance(exc, grpc.Call) else None
        details = exc.details() if isinstance(exc, grpc.Call) else str(exc)
        name = code.name if code else "ERROR"
        return ServerError(f"{call} to {self.target} failed: {name}: {details} (is `decision serve` running there?)")


def decide_request(ask: Ask) -> pb.DecideRequest:
    """The DecideRequest a shop would send for this user at this moment."""
    user, moment = ask.user, ask.moment
    request = pb.DecideRequest(
        request_id=ask.request_id,
        user_id=user.user_id,
        placement=moment.placement,
        context=pb.Context(region=user.region, device=user.device, channel=moment.channel),
        max_results=ask.max_results,
        personalization_consent=pb.CONSENT_GRANTED if user.consent else pb.CONSENT_DENIED,
    )
    request.context.client_time.FromDatetime(moment.at)
    if moment.cart_items:
        request.cart.item_count = moment.cart_items
        request.cart.value = moment.cart_value
        request.cart.currency = CURRENCY
        if moment.cart_idle_minutes is not None:
            # The server measures cart idle time on its own clock, so the cart's time is on it too.
            idle = timedelta(minutes=moment.cart_idle_minutes)
            request.cart.updated_at.FromDatetime(datetime.now(UTC) - idle)
    return request


def outcome_request(outcome: OutcomeReport) -> pb.ReportOutcomeRequest:
    request = pb.ReportOutcomeRequest(
        decision_id=outcome.decision_id,
        outcome_type=outcome.outcome_type,
        content_id=outcome.content_id,
        value=outcome.value,
        idempotency_key=outcome.idempotency_key,
    )
    request.occurred_at.FromDatetime(outcome.occurred_at)
    if outcome.consent:
        request.user_id = outcome.user_id
        request.personalization_consent = pb.CONSENT_GRANTED
    return request


def answer_from(result: pb.DecideBatchResult) -> Answer | Refusal:
    if result.WhichOneof("outcome") == "error":
        return Refusal(result.error.code, result.error.message, result.error.field)
    response = result.response
    provenance = response.provenance
    return Answer(
        decision_id=response.decision_id,
        source=pb.DecisionSource.Name(response.source).removeprefix("DECISION_SOURCE_"),
        tier=provenance.tier,
        items=tuple(ShownItem(item.content_id, item.probability) for item in response.items),
        rule_id=provenance.rule_id,
        model_version=provenance.model_version,
        details=dict(provenance.details),
        decided_at=response.decided_at.ToDatetime(UTC) if response.HasField("decided_at") else None,
        experiment_id=provenance.experiment_id,
        arm=provenance.arm,
        arm_probability=provenance.arm_probability,
    )
