"""The service's error types; each names the gRPC status it maps to.

The status is a name (`"INVALID_ARGUMENT"`), not a grpc object, so the core
never imports gRPC; the servicer is the one place that turns it into a status.
Messages are written for the caller: they name the field, never user data.
"""

from __future__ import annotations


class DecisionError(Exception):
    """Base of every error the service raises on purpose."""

    grpc_code = "INTERNAL"


class InvalidRequestError(DecisionError):
    """A request field breaks the API contract; `field` is its proto path."""

    grpc_code = "INVALID_ARGUMENT"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class UnavailableError(DecisionError):
    """A part the call needs is unreachable right now (e.g. the shared store); the caller may retry."""

    grpc_code = "UNAVAILABLE"
