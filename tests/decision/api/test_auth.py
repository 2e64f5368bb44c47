"""The token interceptor on a bare gRPC server: an RPC nobody gave a scope needs admin, and streaming
RPCs are refused in their own shape."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest

from decision.api.auth import TokenAuthInterceptor
from decision.security.tokens import add_token, load_tokens

UNLISTED = "/decision.v1.DecisionService/NotYetListed"
STREAMING = "/decision.v1.DecisionService/NotYetListedStream"


@pytest.fixture
def tokens_file(tmp_path: Path) -> Path:
    return tmp_path / "tokens.yaml"


@pytest.fixture
def tokens(tokens_file: Path) -> dict[str, str]:
    return {name: add_token(tokens_file, name, [scope]) for name, scope in (("web", "decide"), ("ops", "admin"))}


@pytest.fixture
def channel(tokens: dict[str, str], tokens_file: Path) -> Iterator[grpc.Channel]:
    table = load_tokens(tokens_file)
    server = grpc.server(futures.ThreadPoolExecutor(2), interceptors=[TokenAuthInterceptor(lambda: table)])
    handlers = {
        "NotYetListed": grpc.unary_unary_rpc_method_handler(lambda request, context: b"done"),
        "NotYetListedStream": grpc.unary_stream_rpc_method_handler(lambda request, context: iter([b"a", b"b"])),
    }
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("decision.v1.DecisionService", handlers)])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as chan:
        yield chan
    server.stop(0).wait()


def _bearer(token: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {token}"),)


def test_an_rpc_missing_from_the_scope_map_needs_admin(channel: grpc.Channel, tokens: dict[str, str]) -> None:
    call = channel.unary_unary(UNLISTED)
    assert call(b"", timeout=5, metadata=_bearer(tokens["ops"])) == b"done"
    with pytest.raises(grpc.RpcError, match="client web may not call NotYetListed: it needs scope 'admin'") as caught:
        call(b"", timeout=5, metadata=_bearer(tokens["web"]))
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_a_streaming_rpc_is_refused_as_a_stream(channel: grpc.Channel, tokens: dict[str, str]) -> None:
    call = channel.unary_stream(STREAMING)
    assert list(call(b"", timeout=5, metadata=_bearer(tokens["ops"]))) == [b"a", b"b"]
    with pytest.raises(grpc.RpcError, match="send a valid token") as caught:
        list(call(b"", timeout=5))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_no_table_refuses_everyone() -> None:
    interceptor = TokenAuthInterceptor(lambda: None)
    refusal = interceptor._refusal(UNLISTED, (("authorization", "Bearer decision_x"),))
    assert refusal == (
        grpc.StatusCode.UNAUTHENTICATED,
        "unknown token: send a valid token: metadata `authorization: Bearer <token>`",
    )
