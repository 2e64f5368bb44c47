"""DecisionServicer: validate, convert, delegate to the Decider, convert back.

No business logic lives here. Errors become statuses in this one place:
InvalidRequestError -> INVALID_ARGUMENT naming the field; anything unexpected
-> INTERNAL with an error id (never the exception text, which may carry user
data, and never grpcio's default UNKNOWN).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import NoReturn, TypeVar

import grpc
from prometheus_client import Histogram

from decision import metrics
from decision.api import convert
from decision.api.validation import MAX_BATCH, validate, validate_event, validate_outcome, validate_user_id
from decision.domain import Decision, Event
from decision.errors import DecisionError, InvalidRequestError
from decision.feedback.outcomes import OutcomeRecorder
from decision.pipeline.decider import UTC_NOW, Decider
from decision.sources.live import LiveProfiles
from decision.v1 import decision_service_pb2 as pb
from decision.v1 import decision_service_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

T = TypeVar("T")
_NOT_READY = "not ready: no ruleset is loaded yet (health is NOT_SERVING); retry shortly"
_DECIDE_LATENCY = metrics.LATENCY.labels("Decide")
_BATCH_LATENCY = metrics.LATENCY.labels("DecideBatch")
_OUTCOME_LATENCY = metrics.LATENCY.labels("ReportOutcome")
_OUTCOME_BATCH_LATENCY = metrics.LATENCY.labels("ReportOutcomeBatch")
_EVENTS_LATENCY = metrics.LATENCY.labels("RecordEvents")
_FORGET_LATENCY = metrics.LATENCY.labels("Forget")


class DecisionServicer(pb_grpc.DecisionServiceServicer):
    """The gRPC face of a Decider."""

    def __init__(
        self,
        decider: Decider,
        outcomes: OutcomeRecorder,
        profiles: LiveProfiles,
        timeout_seconds: float,
        clock: Callable[[], datetime] = UTC_NOW,
    ) -> None:
        self._decider = decider
        self._outcomes = outcomes
        self._profiles = profiles
        self._timeout = timeout_seconds
        self._clock = clock
        # Until the first ruleset is active, answering would skip the rules (opt-outs among
        # them): refuse with UNAVAILABLE, which clients retry, possibly on another replica.
        self.ready = False

    def Decide(self, request: pb.DecideRequest, context: grpc.ServicerContext) -> pb.DecideResponse:
        return self._answer(
            context, _DECIDE_LATENCY, lambda deadline: convert.response_to_pb(self._decide(request, deadline))
        )

    def DecideBatch(self, request: pb.DecideBatchRequest, context: grpc.ServicerContext) -> pb.DecideBatchResponse:
        def decide_all(deadline: float) -> pb.DecideBatchResponse:
            if not 1 <= len(request.requests) <= MAX_BATCH:
                raise InvalidRequestError("requests", f"send between 1 and {MAX_BATCH} requests")
            return pb.DecideBatchResponse(results=[self._decide_one(r, deadline) for r in request.requests])

        return self._answer(context, _BATCH_LATENCY, decide_all)

    def ReportOutcome(
        self, request: pb.ReportOutcomeRequest, context: grpc.ServicerContext
    ) -> pb.ReportOutcomeResponse:
        return self._answer(context, _OUTCOME_LATENCY, lambda _: self._report(request), needs_rules=False)

    def ReportOutcomeBatch(
        self, request: pb.ReportOutcomeBatchRequest, context: grpc.ServicerContext
    ) -> pb.ReportOutcomeBatchResponse:
        def report_all(_: float) -> pb.ReportOutcomeBatchResponse:
            if not 1 <= len(request.outcomes) <= MAX_BATCH:
                raise InvalidRequestError("outcomes", f"send between 1 and {MAX_BATCH} outcomes")
            return pb.ReportOutcomeBatchResponse(results=[self._report_one(o) for o in request.outcomes])

        return self._answer(context, _OUTCOME_BATCH_LATENCY, report_all, needs_rules=False)

    def RecordEvents(self, request: pb.RecordEventsRequest, context: grpc.ServicerContext) -> pb.RecordEventsResponse:
        return self._answer(context, _EVENTS_LATENCY, lambda _: self._record(request), needs_rules=False)

    def Forget(self, request: pb.ForgetRequest, context: grpc.ServicerContext) -> pb.ForgetResponse:
        def forget(_: float) -> pb.ForgetResponse:
            validate_user_id(request.user_id)
            return pb.ForgetResponse(had_profile=self._profiles.forget(request.user_id))

        return self._answer(context, _FORGET_LATENCY, forget, needs_rules=False)

    def _answer(
        self,
        context: grpc.ServicerContext,
        latency: Histogram,
        work: Callable[[float], T],
        needs_rules: bool = True,
    ) -> T:
        """The one place errors become statuses, for every RPC; `work` gets the deadline."""
        if needs_rules and not self.ready:
            _abort(context, grpc.StatusCode.UNAVAILABLE, _NOT_READY)
        started = time.perf_counter()
        try:
            # The caller's deadline, capped by our own budget, on the perf_counter clock.
            caller = context.time_remaining()
            budget = self._timeout if caller is None else min(caller, self._timeout)
            return work(started + budget)
        except InvalidRequestError as exc:
            _abort(context, grpc.StatusCode[exc.grpc_code], _count_invalid(exc))
        except DecisionError as exc:  # raised on purpose, with a message written for the caller
            _abort(context, grpc.StatusCode[exc.grpc_code], str(exc))
        except Exception as exc:
            _abort(context, grpc.StatusCode.INTERNAL, _internal_message(exc))
        finally:
            latency.observe(time.perf_counter() - started)

    def _decide(self, request: pb.DecideRequest, deadline: float) -> Decision:
        parsed = convert.request_from_pb(request)
        validate(parsed, self._decider.placements)
        return self._decider.decide(parsed, deadline)

    def _decide_one(self, request: pb.DecideRequest, deadline: float) -> pb.DecideBatchResult:
        """One batch entry, decided as Decide would; a bad entry gets its own error."""
        try:
            decision = self._decide(request, deadline)
        except InvalidRequestError as exc:
            code = grpc.StatusCode[exc.grpc_code].value[0]
            return pb.DecideBatchResult(error=pb.DecideError(code=code, message=_count_invalid(exc), field=exc.field))
        return pb.DecideBatchResult(response=convert.response_to_pb(decision))

    def _record(self, request: pb.RecordEventsRequest) -> pb.RecordEventsResponse:
        """Validate each event; record the good ones, name each bad one with its position."""
        if not 1 <= len(request.events) <= MAX_BATCH:
            raise InvalidRequestError("events", f"send between 1 and {MAX_BATCH} events")
        now = self._clock()
        events: list[Event] = []
        errors: list[pb.EventError] = []
        for index, message in enumerate(request.events):
            try:
                event = convert.event_from_pb(message, now)
                validate_event(event, now)
            except InvalidRequestError as exc:
                errors.append(pb.EventError(index=index, field=exc.field, message=_count_invalid(exc)))
                continue
            events.append(event)
        recorded = self._profiles.record(events)
        return pb.RecordEventsResponse(
            accepted=recorded.accepted, without_consent=recorded.without_consent, errors=errors
        )

    def _report(self, request: pb.ReportOutcomeRequest) -> pb.ReportOutcomeResponse:
        outcome = convert.outcome_from_pb(request)
        validate_outcome(outcome, self._outcomes.types)
        return pb.ReportOutcomeResponse(duplicate=self._outcomes.record(outcome))

    def _report_one(self, request: pb.ReportOutcomeRequest) -> pb.ReportOutcomeResult:
        """One batch entry, reported as ReportOutcome would; a bad entry gets its own error."""
        try:
            return pb.ReportOutcomeResult(response=self._report(request))
        except InvalidRequestError as exc:
            code = grpc.StatusCode[exc.grpc_code].value[0]
            return pb.ReportOutcomeResult(error=pb.DecideError(code=code, message=_count_invalid(exc), field=exc.field))


def _count_invalid(exc: InvalidRequestError) -> str:
    """Count a refused request; returns the message for the caller."""
    # attributes.<key> carries caller-chosen keys: keep the label bounded.
    field = "attributes" if exc.field.startswith("attributes") else exc.field
    metrics.INVALID_REQUESTS.labels(field).inc()
    return str(exc)


def _internal_message(exc: Exception) -> str:
    """Log an unexpected failure under a fresh id; the caller gets only the id."""
    error_id = uuid.uuid4().hex[:12]
    log.error("internal error %s: %s", error_id, type(exc).__name__)
    return f"internal error (id {error_id}); the server log has details"


def _abort(context: grpc.ServicerContext, code: grpc.StatusCode, message: str) -> NoReturn:
    context.abort(code, message)
    raise RuntimeError("grpc context.abort returned without raising")
