"""Beyond max_concurrent_rpcs calls are refused with RESOURCE_EXHAUSTED, not queued; the plaintext
health-only port keeps answering meanwhile (probes on the main port are refused too); and the
service answers again once the load is gone. (How fast: bench/overload.py.)"""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from decision.settings import Settings
from decision.v1 import decision_service_pb2 as pb
from decision.v1 import decision_service_pb2_grpc as pb_grpc
from tests.conftest import is_serving
from tests.fakes import BlockingTier, decider, serve

REQUEST = pb.DecideRequest(user_id="u1", placement="home_banner")


def test_excess_calls_are_refused_and_the_health_port_keeps_answering(settings: Settings) -> None:
    settings = settings.model_copy(update={"max_concurrent_rpcs": 1, "health_listen": "127.0.0.1:0"})
    model = BlockingTier()
    running = serve(settings, decider(model, placements=settings.placements))
    running.mark_serving()
    try:
        assert running.health_port is not None
        with (
            grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel,
            grpc.insecure_channel(f"127.0.0.1:{running.health_port}") as health_channel,
        ):
            stub = pb_grpc.DecisionServiceStub(channel)
            held = stub.Decide.future(REQUEST, timeout=10)
            assert model.entered.wait(5)
            with pytest.raises(grpc.RpcError, match="Concurrent RPC limit exceeded") as refused:
                stub.Decide(REQUEST, timeout=5)
            assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            main_health = health_pb2_grpc.HealthStub(channel)
            with pytest.raises(grpc.RpcError, match="Concurrent RPC limit exceeded"):
                main_health.Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert is_serving(health_pb2_grpc.HealthStub(health_channel))
            model.release.set()
            assert held.result(timeout=5).items[0].content_id == "slow_item"
            assert stub.Decide(REQUEST, timeout=5).items  # load gone: answered again
            assert is_serving(main_health)
    finally:
        model.release.set()
        running.drain(0)


def test_the_health_port_serves_only_health(settings: Settings) -> None:
    settings = settings.model_copy(update={"health_listen": "127.0.0.1:0"})
    running = serve(settings, decider(placements=settings.placements))
    try:
        assert running.health_port is not None
        with grpc.insecure_channel(f"127.0.0.1:{running.health_port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            assert not is_serving(health)
            running.mark_serving()
            assert is_serving(health)
            with pytest.raises(grpc.RpcError, match="UNIMPLEMENTED"):
                pb_grpc.DecisionServiceStub(channel).Decide(REQUEST, timeout=5)
            running.drain(0)
            with pytest.raises(grpc.RpcError, match="UNAVAILABLE"):
                health.Check(health_pb2.HealthCheckRequest(), timeout=2)
    finally:
        running.server.stop(0).wait()
