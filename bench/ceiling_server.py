"""The bare gRPC ceiling: the decision service's server setup with a trivial Decide handler.

It answers every Decide with the same prebuilt DecideResponse, so its throughput is what
Python gRPC itself allows on this machine; the Decide figures are read against it.

    python bench/ceiling_server.py --port-file PATH
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from concurrent import futures
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from decision.settings import Settings
from decision.v1 import decision_service_pb2 as pb
from decision.v1 import decision_service_pb2_grpc as pb_grpc

logger = logging.getLogger(__name__)
# Not imported from decision.runtime.server: that would load the rule and model tiers (and MLflow)
# into this process, and its memory figure would no longer be that of a bare server.
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["DecisionService"].full_name


def fixed_response() -> pb.DecideResponse:
    """A response shaped like a real model decision (three ranked items, full provenance)."""
    response = pb.DecideResponse(
        decision_id="00000000-0000-4000-8000-000000000000",
        request_id="bench",
        source=pb.DECISION_SOURCE_MODEL,
        provenance=pb.Provenance(
            ruleset_version="bench",
            model_name="next_best_content",
            model_version="1",
            fallback_reasons=[pb.FALLBACK_REASON_NO_RULE_MATCHED],
            ruleset_hash="000000000000",
        ),
    )
    for rank in range(1, 4):
        response.items.add(content_id=f"content-{rank}", score=0.5 / rank, rank=rank)
    response.decided_at.FromSeconds(1_700_000_000)
    return response


class TrivialDecision(pb_grpc.DecisionServiceServicer):
    """Decide returns a constant; DecideBatch returns that constant once per entry; outcomes
    are acknowledged without being looked at."""

    def __init__(self) -> None:
        self._response = fixed_response()
        self._accepted = pb.ReportOutcomeResponse()

    def Decide(self, request: pb.DecideRequest, context: grpc.ServicerContext) -> pb.DecideResponse:
        return self._response

    def DecideBatch(self, request: pb.DecideBatchRequest, context: grpc.ServicerContext) -> pb.DecideBatchResponse:
        results = [pb.DecideBatchResult(response=self._response) for _ in request.requests]
        return pb.DecideBatchResponse(results=results)

    def ReportOutcome(
        self, request: pb.ReportOutcomeRequest, context: grpc.ServicerContext
    ) -> pb.ReportOutcomeResponse:
        return self._accepted

    def ReportOutcomeBatch(
        self, request: pb.ReportOutcomeBatchRequest, context: grpc.ServicerContext
    ) -> pb.ReportOutcomeBatchResponse:
        return pb.ReportOutcomeBatchResponse(
            results=[pb.ReportOutcomeResult(response=self._accepted) for _ in request.outcomes]
        )

    def RecordEvents(self, request: pb.RecordEventsRequest, context: grpc.ServicerContext) -> pb.RecordEventsResponse:
        return pb.RecordEventsResponse(accepted=len(request.events))

    def Forget(self, request: pb.ForgetRequest, context: grpc.ServicerContext) -> pb.ForgetResponse:
        return pb.ForgetResponse()


def serve(listen: str, port_file: Path | None, workers: int, max_concurrent_rpcs: int) -> None:
    """Serve until SIGTERM/SIGINT; write the bound port once health says SERVING.

    Built like decision.runtime.server.build_server (thread pool, concurrency cap, options, health,
    reflection) so that the only difference from the decision service is the handler.
    """
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decide"),
        maximum_concurrent_rpcs=max_concurrent_rpcs,
        options=[("grpc.so_reuseport", 0)],
    )
    pb_grpc.add_DecisionServiceServicer_to_server(TrivialDecision(), server)
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    health_name = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
    reflection.enable_server_reflection((SERVICE_NAME, health_name, reflection.SERVICE_NAME), server)
    port = server.add_insecure_port(listen)
    server.start()
    for name in ("", SERVICE_NAME):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    if port_file is not None:
        partial = port_file.with_name(port_file.name + ".partial")
        partial.write_text(f"{port}\n")
        partial.replace(port_file)
    logger.info("ceiling server SERVING on port %s with %s workers", port, workers)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    server.stop(grace=1).wait()


def main(argv: list[str] | None = None) -> None:
    fields = Settings.model_fields
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", default="127.0.0.1:0", help="address to bind (port 0 = any)")
    parser.add_argument("--port-file", type=Path, help="write the bound port here once serving")
    parser.add_argument(
        "--workers",
        type=int,
        default=fields["workers"].default,
        help="thread pool size (default: the decision service's, %(default)s)",
    )
    parser.add_argument(
        "--max-concurrent-rpcs",
        type=int,
        default=fields["max_concurrent_rpcs"].default,
        help="calls in progress before RESOURCE_EXHAUSTED (default %(default)s)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    serve(args.listen, args.port_file, args.workers, args.max_concurrent_rpcs)


if __name__ == "__main__":
    main()
