"""Graceful shutdown: in-flight calls complete; SIGTERM exits 0 within the grace period."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import grpc
import pytest

from decision.settings import Settings
from decision.v1 import decision_service_pb2 as pb
from decision.v1 import decision_service_pb2_grpc as pb_grpc
from tests.fakes import BlockingTier, decider, serve
from tests.integration.serving import start_server


def test_drain_lets_in_flight_calls_finish_and_refuses_new_ones(settings: Settings) -> None:
    model = BlockingTier()
    running = serve(settings, decider(model, placements=settings.placements))
    running.mark_serving()
    target = f"127.0.0.1:{running.port}"
    with grpc.insecure_channel(target) as channel:
        stub = pb_grpc.DecisionServiceStub(channel)
        request = pb.DecideRequest(user_id="u1", placement="home_banner")
        in_flight = stub.Decide.future(request, timeout=10)
        assert model.entered.wait(5)
        drained = threading.Thread(target=running.drain, args=(5.0,))
        drained.start()
        time.sleep(0.2)  # give the server time to stop accepting before we try
        with grpc.insecure_channel(target) as late, pytest.raises(grpc.RpcError, match="UNAVAILABLE") as refused:
            pb_grpc.DecisionServiceStub(late).Decide(request, timeout=2)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        model.release.set()
        response = in_flight.result(timeout=5)
        drained.join(5)
    assert not drained.is_alive()
    assert response.source == pb.DECISION_SOURCE_MODEL
    assert [i.content_id for i in response.items] == ["slow_item"]


def test_a_call_past_its_deadline_is_deadline_exceeded_and_the_server_stays_healthy(settings: Settings) -> None:
    model = BlockingTier()
    running = serve(settings, decider(model, placements=settings.placements))
    running.mark_serving()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.DecisionServiceStub(channel)
            request = pb.DecideRequest(user_id="u1", placement="home_banner")
            with pytest.raises(grpc.RpcError, match="DEADLINE_EXCEEDED"):
                stub.Decide(request, timeout=0.2)  # the model holds the call past its deadline
            model.release.set()
            assert stub.Decide(request, timeout=5).source == pb.DECISION_SOURCE_MODEL
    finally:
        model.release.set()
        running.server.stop(0).wait()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_the_server_with_exit_code_zero(tmp_path: Path, signum: signal.Signals) -> None:
    process, port = start_server(tmp_path, "--grace-seconds", "1")
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            reply = pb_grpc.DecisionServiceStub(channel).Decide(
                pb.DecideRequest(user_id="u1", placement="email", personalization_consent=pb.CONSENT_GRANTED),
                timeout=5,
            )
        assert reply.items[0].content_id == "email_newsletter"
        process.send_signal(signum)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
