"""Build the gRPC server (Decide + health + reflection) and run it until a signal.

`build_server` does not block and returns the bound port, so tests can bind
127.0.0.1:0. `serve` blocks: SIGTERM/SIGINT -> health NOT_SERVING -> stop
accepting -> in-flight calls finish within the grace period -> exit 0.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from decision.api.servicer import DecisionServicer
from decision.feedback.outcomes import OutcomeRecorder
from decision.pipeline.decider import Decider
from decision.privacy import UserKeyError
from decision.runtime.app import App
from decision.runtime.security import Security, SecurityError
from decision.runtime.signals import StopSignals
from decision.runtime.tiers import TierConfigError
from decision.settings import Settings
from decision.sources.live import LiveProfiles
from decision.v1 import decision_service_pb2 as pb
from decision.v1 import decision_service_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["DecisionService"].full_name
# "" is the whole server (what load balancers and `decision health` ask).
HEALTH_SERVICES = ("", SERVICE_NAME)


class ServeError(Exception):
    """The server could not start (e.g. the port is taken)."""


@dataclass
class RunningServer:
    """A started server, its bound port and its health switch."""

    server: grpc.Server
    port: int
    health: health.HealthServicer
    servicer: DecisionServicer
    security: Security = field(default_factory=Security)
    health_server: grpc.Server | None = None  # the plaintext health-only port, if configured
    health_port: int | None = None

    def mark_serving(self) -> None:
        """Readiness: called once the rules are loaded; Decide answers from then on."""
        self.servicer.ready = True
        for name in HEALTH_SERVICES:
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

    def drain(self, grace_seconds: float) -> None:
        """NOT_SERVING for good, refuse new calls, let in-flight ones finish."""
        self.health.enter_graceful_shutdown()
        self.server.stop(grace_seconds).wait()
        if self.health_server is not None:
            self.health_server.stop(0).wait()


def build_server(
    settings: Settings,
    decider: Decider,
    outcomes: OutcomeRecorder,
    profiles: LiveProfiles,
    reuse_port: bool = False,
    security: Security | None = None,
) -> RunningServer:
    """Create and start the server on `settings.listen`; health starts NOT_SERVING.

    TLS and tokens come from `security`, else from the settings (files checked here; their
    watchers start with `security.start()`, which `serve` calls).
    """
    if security is None:
        try:
            security = Security.from_settings(settings)
        except SecurityError as exc:
            raise ServeError(str(exc)) from None
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="decide"),
        interceptors=security.interceptors(),
        maximum_concurrent_rpcs=settings.max_concurrent_rpcs,
        # Off unless we share the port on purpose: a second server on a busy
        # port must fail loudly, not silently take half the traffic.
        options=[("grpc.so_reuseport", int(reuse_port))],
    )
    servicer = DecisionServicer(decider, outcomes, profiles, settings.decide_timeout_ms / 1000)
    pb_grpc.add_DecisionServiceServicer_to_server(servicer, server)
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    for name in HEALTH_SERVICES:
        health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    health_name = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
    reflection.enable_server_reflection((SERVICE_NAME, health_name, reflection.SERVICE_NAME), server)
    port = _bind(settings.listen, lambda: security.add_port(server, settings.listen))
    health_server, health_port = None, None
    if settings.health_listen is not None:
        health_server, health_port = _health_only_server(settings.health_listen, health_servicer, reuse_port)
    server.start()
    return RunningServer(server, port, health_servicer, servicer, security, health_server, health_port)


def _health_only_server(
    address: str, health_servicer: health.HealthServicer, reuse_port: bool
) -> tuple[grpc.Server, int]:
    """A plaintext server answering only grpc.health.v1 (the same statuses as the main port), for
    probes that cannot do TLS or send tokens, with its own small pool and limit: it keeps
    answering while the main port sheds load with RESOURCE_EXHAUSTED."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="health"),
        maximum_concurrent_rpcs=16,
        options=[("grpc.so_reuseport", int(reuse_port))],
    )
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = _bind(address, lambda: server.add_insecure_port(address))
    server.start()
    return server, port


def _bind(address: str, add_port: Callable[[], int]) -> int:
    try:
        return add_port()
    except RuntimeError as exc:
        raise ServeError(f"cannot listen on {address}: is the port in use?") from exc


def serve(settings: Settings, reuse_port: bool = False) -> int:
    """Run one server process until SIGTERM/SIGINT; returns the exit code."""
    try:
        security = Security.from_settings(settings)  # before the slow parts: a bad file fails fast
        app = App(settings)
    except (TierConfigError, UserKeyError, SecurityError) as exc:
        raise ServeError(str(exc)) from exc
    running = build_server(settings, app.decider, app.outcomes, app.live, reuse_port, security)
    security.start()
    stop = StopSignals()

    def on_ready() -> None:
        running.mark_serving()
        if settings.port_file is not None:
            write_port_file(settings.port_file, running.port)
        log.info("serving on port %d (pid %d)", running.port, os.getpid())

    try:
        app.start(on_ready, metrics_context=security.metrics_context())
    except OSError as exc:  # e.g. the metrics port is taken, the decision log cannot be opened
        running.server.stop(0)
        raise ServeError(f"cannot start: {exc}") from exc
    stop.wait()
    log.info("shutting down: draining in-flight calls for up to %.1f s", settings.grace_seconds)
    running.drain(settings.grace_seconds)
    security.stop()
    app.stop()
    log.info("stopped")
    return 0


def write_port_file(path: Path, port: int) -> None:
    """Write the port atomically, so a reader never sees a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(f"{port}\n")
    partial.replace(path)
