"""Shared fixtures: a real gRPC server on an ephemeral port and a stub for it."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
import redis
from grpc_health.v1 import health_pb2, health_pb2_grpc

from decision.runtime.server import RunningServer
from decision.settings import Settings
from decision.v1 import decision_service_pb2_grpc as pb_grpc
from tests.fakes import decider, serve
from tests.redis_server import redis_server

#: One fixed user-key secret for the whole run (hex), so no test creates or reads the
#: checkout's var/user.key and training and test servers pseudonymize users alike.
TEST_USER_KEY = "0123456789abcdef" * 4


@pytest.fixture(autouse=True, scope="session")
def _fixed_user_key() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DECISION_USER_KEY", TEST_USER_KEY)
        yield


@pytest.fixture(scope="session")
def redis_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """One real redis-server for the whole run; tests isolate themselves with key prefixes."""
    with redis_server(tmp_path_factory.mktemp("redis")) as (_, port):
        yield port


@pytest.fixture
def redis_url(redis_port: int) -> str:
    """The test's own Redis database URL: the server is shared, flushed before each test that asks."""
    client = redis.Redis(port=redis_port)
    client.flushall()
    client.close()
    return f"redis://127.0.0.1:{redis_port}/0"


@pytest.fixture
def settings() -> Settings:
    """Settings for an in-process test server: ephemeral port, nothing written to the repo."""
    return Settings(listen="127.0.0.1:0", metrics_port=0, decision_log_path=None, workers=4)


@pytest.fixture
def running(settings: Settings) -> Iterator[RunningServer]:
    """A real server with the default-only decider, already SERVING."""
    server = serve(settings, decider(placements=settings.placements))
    server.mark_serving()
    yield server
    server.server.stop(0).wait()


@pytest.fixture
def channel(running: RunningServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{running.port}") as chan:
        yield chan


@pytest.fixture
def stub(channel: grpc.Channel) -> pb_grpc.DecisionServiceStub:
    return pb_grpc.DecisionServiceStub(channel)


@pytest.fixture
def health_stub(channel: grpc.Channel) -> health_pb2_grpc.HealthStub:
    return health_pb2_grpc.HealthStub(channel)


def is_serving(stub: health_pb2_grpc.HealthStub, service: str = "") -> bool:
    reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=2)
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
