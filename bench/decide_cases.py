"""Decide requests for the benchmark and the real-client checks of their answers.

The request files in bench/requests/ are protobuf JSON: `decide_rule.json` must be decided
by a shipped rule (nordic_free_shipping: a Swedish web cart worth 50 or more, on the cart
page; no time window, so it fires on any date), `decide_model.json` by the model (home
banner in GB: no promotion or reminder applies). The check proves that on the running
server before and after each load run, so a misrouted request cannot pass as a figure.
"""

from __future__ import annotations

import re
import socket
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeAlias

import grpc
from google.protobuf import json_format

from bench.load import GRPC_HEADERS, Target, grpc_frame
from bench.measure import Case
from bench.servers import free_port
from decision.v1 import decision_service_pb2 as pb
from decision.v1 import decision_service_pb2_grpc as pb_grpc

REQUESTS = Path(__file__).with_name("requests")
BATCH_SIZE = 64
CHECK_CONNECTIONS = 8
SETTLE_SECONDS = 60.0
NATIVE_SECONDS = 300.0  # compiling the model: 6 s for the 480-tree sample model here
BATCH_USER_ID = "u{:07d}"  # the user ids `training generate` writes
Source: TypeAlias = pb.DecisionSource.ValueType
SERVICE = "/decision.v1.DecisionService"


class WrongAnswer(AssertionError):
    """The server answered, but not the way this case needs."""


def load_request(name: str) -> pb.DecideRequest:
    path = REQUESTS / f"{name}.json"
    return json_format.Parse(path.read_text(), pb.DecideRequest())


def batch_of(request: pb.DecideRequest, size: int = BATCH_SIZE) -> pb.DecideBatchRequest:
    """`size` copies of `request`, each for a different user of the synthetic data set."""
    batch = pb.DecideBatchRequest()
    for index in range(size):
        entry = batch.requests.add()
        entry.CopyFrom(request)
        entry.user_id = BATCH_USER_ID.format(index)
        entry.request_id = f"bench-{index:03d}"
    return batch


def _require(response: pb.DecideResponse, source: Source, what: str) -> None:
    if response.source != source:
        reasons = [pb.FallbackReason.Name(r) for r in response.provenance.fallback_reasons]
        raise WrongAnswer(
            f"{what}: expected {pb.DecisionSource.Name(source)}, got "
            f"{pb.DecisionSource.Name(response.source)} (fallback reasons {reasons}); "
            f"edit bench/requests/ or check the server's rules and model"
        )


def _settled(what: str, call: Callable[[], int]) -> int:
    """Retry `call` while it gets a wrong answer, for up to SETTLE_SECONDS.

    The service reports SERVING once its rules are active; the model may still be loading
    (in each process of --processes N), and until then the model path answers DEFAULT.
    """
    started = time.monotonic()
    while True:
        try:
            size = call()
        except WrongAnswer:
            if time.monotonic() - started > SETTLE_SECONDS:
                raise
            time.sleep(0.5)
            continue
        waited = time.monotonic() - started
        if waited > 1:
            print(f"{what}: answered as expected only after {waited:.0f} s (model loading?)")
        return size


def _decide_once(port: int, request: pb.DecideRequest) -> pb.DecideResponse:
    """One call on a connection of its own (no shared subchannel), so that with
    --processes N the kernel may hand it to any of the processes."""
    options = [("grpc.use_local_subchannel_pool", 1)]
    with grpc.insecure_channel(f"127.0.0.1:{port}", options=options) as channel:
        response: pb.DecideResponse = pb_grpc.DecisionServiceStub(channel).Decide(request, timeout=10)
    return response


def decide_check(port: int, request: pb.DecideRequest, source: Source | None) -> Callable[[], int]:
    """A check: real Decide calls on fresh connections; each answer must come from `source`
    (None: any). Returns the size of the smallest answer on the wire."""

    def once() -> int:
        responses = [_decide_once(port, request) for _ in range(CHECK_CONNECTIONS)]
        if source is not None:
            for response in responses:
                _require(response, source, "Decide")
        return min(len(grpc_frame(r.SerializeToString())) for r in responses)

    return lambda: _settled("Decide", once)


def batch_check(port: int, batch: pb.DecideBatchRequest, source: Source | None) -> Callable[[], int]:
    """A check: one real DecideBatch call; every entry must be answered by `source`."""

    def once() -> int:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            reply = pb_grpc.DecisionServiceStub(channel).DecideBatch(batch, timeout=30)
        if len(reply.results) != len(batch.requests):
            raise WrongAnswer(f"DecideBatch: {len(reply.results)} results for {len(batch.requests)}")
        for result in reply.results:
            if result.WhichOneof("outcome") != "response":
                raise WrongAnswer(f"DecideBatch entry failed: {result.error.message}")
            if source is not None:
                _require(result.response, source, "DecideBatch entry")
        return len(grpc_frame(reply.SerializeToString()))

    return lambda: _settled("DecideBatch", once)


def outcome_request() -> pb.ReportOutcomeRequest:
    """The outcome the benchmark reports: a click on a model-path decision (its first report is
    logged; h2load repeats the same body, so later ones take the duplicate path: validated,
    looked up, counted, not written again)."""
    return pb.ReportOutcomeRequest(
        decision_id="bench-decision-0000000000000001",
        outcome_type="click",
        content_id="home-1",
        idempotency_key="bench-click-1",
    )


def outcome_check(port: int, request: pb.ReportOutcomeRequest) -> Callable[[], int]:
    """A check: one real ReportOutcome call, accepted; returns the answer's size on the wire."""

    def once() -> int:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            reply = pb_grpc.DecisionServiceStub(channel).ReportOutcome(request, timeout=10)
        return len(grpc_frame(reply.SerializeToString()))

    return once


def events_request() -> pb.RecordEventsRequest:
    """One consented click for a user of its own (not the model-path case's user)."""
    event = pb.Event(
        user_id="bench-events-user",
        event_type="click",
        content_id="home-1",
        personalization_consent=pb.CONSENT_GRANTED,
    )
    return pb.RecordEventsRequest(events=[event])


def events_check(port: int, request: pb.RecordEventsRequest) -> Callable[[], int]:
    """A check: one real RecordEvents call that updates a profile."""

    def once() -> int:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            reply = pb_grpc.DecisionServiceStub(channel).RecordEvents(request, timeout=10)
        if reply.accepted != len(request.events):
            raise WrongAnswer(f"RecordEvents: {reply.accepted} of {len(request.events)} accepted")
        return len(grpc_frame(reply.SerializeToString()))

    return once


def metrics_ports(count: int) -> int:
    """A first port such that it and the next `count - 1` are free (one /metrics per process)."""
    for _ in range(50):
        first = free_port()
        if all(_free(first + i) for i in range(1, count)):
            return first
    raise RuntimeError(f"found no {count} consecutive free ports for /metrics")


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def await_native_scorer(first_port: int, processes: int, log: Path, timeout_s: float = NATIVE_SECONDS) -> None:
    """Wait until every process scores its model with native code (it serves with LightGBM
    while that compiles, seconds after the model loads), so the run measures what the
    service settles on. Says so and goes on if that does not happen in time."""
    deadline = time.monotonic() + timeout_s
    ports = [first_port + i for i in range(processes)]
    while not all(_scorer(port) == "native" for port in ports):
        if time.monotonic() > deadline:
            scorers = ", ".join(f"{port}: {_scorer(port) or 'no model'}" for port in ports)
            print(f"Decide: the model is not scored natively after {timeout_s:.0f} s ({scorers}); see {log}")
            return
        time.sleep(0.5)


def _scorer(metrics_port: int) -> str | None:
    """What scores the active model, as the process's /metrics says (None: no model)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=2) as reply:
            text = reply.read().decode()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("decision_model_active_info{") and line.endswith(" 1.0"):
            found = re.search(r'scorer="([a-z]+)"', line)
            return found.group(1) if found else None
    return None


def body_file(workdir: Path, name: str, message: bytes) -> Path:
    path = workdir / f"{name}.grpc"
    path.write_bytes(grpc_frame(message))
    return path


def decide_cases(port: int, workdir: Path, *, batch: bool, check_source: bool) -> list[Case]:
    """The rule-path, model-path and (optionally) batch cases against one Decide server.

    Without `check_source` (a server still missing a tier) any answer counts, and the
    labels say so.
    """
    rule, model = load_request("decide_rule"), load_request("decide_model")
    url = f"http://127.0.0.1:{port}{SERVICE}"
    suffix = "" if check_source else " [any source]"

    def expect(source: Source) -> Source | None:
        return source if check_source else None

    def case(
        name: str, label: str, message: bytes, method: str, check: Callable[[], int], per_request: int = 1
    ) -> Case:
        target = Target(
            f"{url}/{method}", body_file(workdir, name, message), GRPC_HEADERS, decisions_per_request=per_request
        )
        return Case(name, label + suffix, target, check)

    cases = [
        case(
            "decide_rule",
            "Decide, rule path",
            rule.SerializeToString(),
            "Decide",
            decide_check(port, rule, expect(pb.DECISION_SOURCE_RULE)),
        ),
        case(
            "decide_model",
            "Decide, model path",
            model.SerializeToString(),
            "Decide",
            decide_check(port, model, expect(pb.DECISION_SOURCE_MODEL)),
        ),
    ]
    if batch:
        outcome = outcome_request()
        cases.append(
            case(
                "report_outcome",
                "ReportOutcome",
                outcome.SerializeToString(),
                "ReportOutcome",
                outcome_check(port, outcome),
            )
        )
        events = events_request()
        cases.append(
            case(
                "record_events", "RecordEvents", events.SerializeToString(), "RecordEvents", events_check(port, events)
            )
        )
        many = batch_of(model)
        cases.append(
            case(
                "decide_batch",
                f"DecideBatch x{BATCH_SIZE}, model path",
                many.SerializeToString(),
                "DecideBatch",
                batch_check(port, many, expect(pb.DECISION_SOURCE_MODEL)),
                BATCH_SIZE,
            )
        )
    return cases
