"""Standard health checking and server reflection, so grpcurl works without .proto files."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from decision.runtime.server import SERVICE_NAME
from decision.settings import Settings
from decision.v1 import decision_service_pb2 as pb
from decision.v1 import decision_service_pb2_grpc as pb_grpc
from tests.conftest import is_serving
from tests.fakes import decider, serve


def test_health_is_not_serving_until_ready_then_serving_then_not_on_drain(settings: Settings) -> None:
    running = serve(settings, decider(placements=settings.placements))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            assert not is_serving(stub)
            assert not is_serving(stub, SERVICE_NAME)
            decide = pb_grpc.DecisionServiceStub(channel)
            request = pb.DecideRequest(user_id="u1", placement="home_banner")
            with pytest.raises(grpc.RpcError, match="UNAVAILABLE"):  # no ruleset yet: never answer without it
                decide.Decide(request, timeout=5)
            running.mark_serving()
            assert decide.Decide(request, timeout=5).source == pb.DECISION_SOURCE_DEFAULT
            assert is_serving(stub)
            assert is_serving(stub, SERVICE_NAME)
            running.health.enter_graceful_shutdown()
            running.mark_serving()  # ignored after shutdown began
            assert not is_serving(stub)
    finally:
        running.server.stop(0).wait()


def test_unknown_health_service_is_not_found(health_stub: health_pb2_grpc.HealthStub) -> None:
    with pytest.raises(grpc.RpcError, match="NOT_FOUND") as caught:
        health_stub.Check(health_pb2.HealthCheckRequest(service="nope.Service"), timeout=2)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_reflection_lists_and_describes_the_service(channel: grpc.Channel) -> None:
    database = ProtoReflectionDescriptorDatabase(channel)
    services = set(database.get_services())
    assert {SERVICE_NAME, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= services
    file = database.FindFileContainingSymbol(SERVICE_NAME)
    methods = {m.name for m in file.service[0].method}
    assert methods == {"Decide", "DecideBatch", "ReportOutcome", "ReportOutcomeBatch", "RecordEvents", "Forget"}
