"""Bearer tokens on the gRPC port: the scope each RPC needs, checked before any handler runs.

METHOD_SCOPES is the one place an RPC gets its scope; an RPC missing from it needs `admin`,
so a new RPC stays closed until someone decides. Health and reflection stay open: load
balancers and probes carry no tokens, and reflection describes only the published .proto.

No token or an unknown one -> UNAUTHENTICATED; a known token without the RPC's scope ->
PERMISSION_DENIED. A token longer than MAX_TOKEN_CHARS is refused without being hashed
(UNAUTHENTICATED); metadata over grpc's 16 KiB limit never reaches us (grpc answers
RESOURCE_EXHAUSTED). The token is never logged nor echoed; refusals are counted by reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import grpc

from decision import metrics
from decision.security.tokens import MAX_TOKEN_CHARS, Scope, TokenTable

log = logging.getLogger(__name__)

_SERVICE = "/decision.v1.DecisionService/"
METHOD_SCOPES: Mapping[str, Scope] = {
    _SERVICE + "Decide": "decide",
    _SERVICE + "DecideBatch": "decide",
    _SERVICE + "ReportOutcome": "report",
    _SERVICE + "ReportOutcomeBatch": "report",
    _SERVICE + "RecordEvents": "report",
    _SERVICE + "Forget": "admin",
}
UNLISTED_SCOPE: Scope = "admin"
OPEN_PREFIXES = (
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
)
_SCHEME = "bearer "
_UNAUTHENTICATED = "send a valid token: metadata `authorization: Bearer <token>`"


class TokenAuthInterceptor(grpc.ServerInterceptor):  # type: ignore[type-arg]  # generic in grpc-stubs only
    """Refuses calls whose bearer token is missing, unknown or lacks the method's scope."""

    def __init__(self, tokens: Callable[[], TokenTable | None]) -> None:
        """`tokens` gives the current table (it is reloaded while serving); None refuses every call."""
        self._tokens = tokens

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        method: str = handler_call_details.method
        if method.startswith(OPEN_PREFIXES):
            return continuation(handler_call_details)
        refusal = self._refusal(method, handler_call_details.invocation_metadata)
        handler = continuation(handler_call_details)
        if refusal is None or handler is None:
            return handler
        return _refusing(handler, *refusal)

    def _refusal(self, method: str, metadata: Any) -> tuple[grpc.StatusCode, str] | None:
        """Why this call may not proceed, or None."""
        header = next((value for key, value in metadata if key == "authorization"), None)
        if not isinstance(header, str) or header[: len(_SCHEME)].lower() != _SCHEME:
            return _refuse("missing", grpc.StatusCode.UNAUTHENTICATED, _UNAUTHENTICATED)
        token = header[len(_SCHEME) :].strip()
        if len(token) > MAX_TOKEN_CHARS:
            return _refuse("too_long", grpc.StatusCode.UNAUTHENTICATED, f"token longer than {MAX_TOKEN_CHARS} chars")
        table = self._tokens()
        client = table.find(token) if table is not None else None
        if client is None:
            return _refuse("invalid", grpc.StatusCode.UNAUTHENTICATED, "unknown token: " + _UNAUTHENTICATED)
        scope = METHOD_SCOPES.get(method, UNLISTED_SCOPE)
        if scope not in client.scopes:
            message = f"client {client.name} may not call {method.rsplit('/', 1)[-1]}: it needs scope {scope!r}"
            return _refuse("scope", grpc.StatusCode.PERMISSION_DENIED, message)
        return None


def _refuse(reason: str, code: grpc.StatusCode, message: str) -> tuple[grpc.StatusCode, str]:
    metrics.AUTH_REFUSALS.labels(reason).inc()
    log.debug("call refused: %s", reason)
    return code, message


def _refusing(
    handler: grpc.RpcMethodHandler[Any, Any], code: grpc.StatusCode, message: str
) -> grpc.RpcMethodHandler[Any, Any]:
    """A handler of the same shape as `handler` that only aborts (the request bytes are not parsed)."""

    def abort(_request: object, context: grpc.ServicerContext) -> None:
        context.abort(code, message)

    if handler.request_streaming and handler.response_streaming:
        return grpc.stream_stream_rpc_method_handler(abort)
    if handler.request_streaming:
        return grpc.stream_unary_rpc_method_handler(abort)
    if handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler(abort)
    return grpc.unary_unary_rpc_method_handler(abort)
