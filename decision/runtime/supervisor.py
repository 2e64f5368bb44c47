"""`decision serve --processes N`: N server processes sharing one port.

Python gRPC does not use a second core well from one process (more threads made it
slower), so we run one process per core, as grpc's own
multiprocessing example does: the parent reserves the port with SO_REUSEPORT,
each child binds it too, the kernel spreads connections. The parent restarts
a child that dies (a crash is not an outage) and forwards SIGTERM/SIGINT.

When there are exactly as many children as CPUs this process may use, child i
is pinned to the i-th of them: pinned children serve clearly more than unpinned
ones, whose threads wander between the cores (bench/README.md, "Design figures"). With
fewer children than allowed CPUs nothing is pinned: then the CPUs are not ours alone
(e.g. a container limited by CPU quota sees every CPU of the host), and pinning every
replica to the first ones would stack them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Set
from pathlib import Path

from decision.runtime.security import Security, SecurityError
from decision.runtime.server import ServeError, write_port_file
from decision.runtime.signals import StopSignals
from decision.settings import Settings

log = logging.getLogger(__name__)

RESTART_BACKOFF_SECONDS = 1.0


def supervise(settings: Settings) -> int:
    """Run `settings.processes` children on one port until a signal; returns the exit code."""
    try:
        Security.from_settings(settings)  # a bad TLS or tokens file stops here, not each child in turn
    except SecurityError as exc:
        raise ServeError(str(exc)) from None
    host, _, port_text = settings.listen.rpartition(":")
    with _reserve_port(host.strip("[]"), int(port_text)) as port, tempfile.TemporaryDirectory() as tmp:
        stop = StopSignals()
        ready_files = [Path(tmp) / f"child-{i}.port" for i in range(settings.processes)]
        allowed = os.sched_getaffinity(0)
        cpus = child_cpus(settings.processes, allowed)
        _log_pinning(cpus, len(allowed))
        children = [_spawn(settings, host, port, i, f, cpus[i]) for i, f in enumerate(ready_files)]
        announced = False
        while not stop.wait(0.2):
            if not announced and all(f.exists() for f in ready_files):
                announced = True  # every child is serving (possibly long after start: rules fixed)
                log.info("%d server processes serving on port %d", len(ready_files), port)
                if settings.port_file is not None:
                    write_port_file(settings.port_file, port)
            for i, child in enumerate(children):
                if child.poll() is not None:
                    log.error("server process %d exited with %s; restarting it", child.pid, child.returncode)
                    time.sleep(RESTART_BACKOFF_SECONDS)
                    children[i] = _spawn(settings, host, port, i, ready_files[i], cpus[i])
        for child in children:
            child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + settings.grace_seconds + 2
        for child in children:
            try:
                child.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
    return 0


def child_cpus(processes: int, allowed: Set[int]) -> list[int | None]:
    """The CPU each child is pinned to: the i-th allowed one when there is one child per
    allowed CPU, else None (unpinned) for every child (see the module docstring)."""
    if processes != len(allowed):
        return [None] * processes
    return list(sorted(allowed))


def _log_pinning(cpus: list[int | None], allowed: int) -> None:
    if cpus[0] is None:
        log.info("%d server processes on %d allowed CPUs: not pinned (only one per CPU is)", len(cpus), allowed)
    else:
        log.info("server processes pinned one per CPU: %s", ", ".join(f"#{i} on CPU {c}" for i, c in enumerate(cpus)))


def _spawn(
    settings: Settings, host: str, port: int, index: int, ready_file: Path, cpu: int | None
) -> subprocess.Popen[bytes]:
    """Start child `index` (pinned to `cpu`) with the parent's settings, passed as DECISION_* variables."""
    ready_file.unlink(missing_ok=True)
    child = settings.model_copy(
        update={
            "listen": f"{host}:{port}",
            "processes": 1,
            "port_file": ready_file,
            "metrics_port": settings.metrics_port + index if settings.metrics_port else 0,
            # one log per process: concurrent appends to one file would interleave
            "decision_log_path": _per_child(settings.decision_log_path, index),
            "outcome_log_path": _per_child(settings.outcome_log_path, index),
        }
    )
    env = dict(os.environ)
    dumped = child.model_dump(mode="json")
    if child.user_key is not None:  # dumped as "**********": pass the secret itself
        dumped["user_key"] = child.user_key.get_secret_value()
    for name, value in dumped.items():
        key = f"DECISION_{name.upper()}"
        # None travels as "" (which Settings reads as None), so a disabled part stays disabled.
        env[key] = "" if value is None else value if isinstance(value, str) else json.dumps(value)
    with _pinned(cpu):
        return subprocess.Popen([sys.executable, "-m", "decision", "serve", "--reuse-port"], env=env)


@contextlib.contextmanager
def _pinned(cpu: int | None) -> Iterator[None]:
    """Pin the calling thread to `cpu` while a child is started: the child inherits the mask
    at fork, so every thread it ever starts (gRPC's included) stays on that CPU. Pinning
    the child's pid afterwards would race with the threads it starts meanwhile."""
    if cpu is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def _per_child(path: Path | None, index: int) -> Path | None:
    return None if path is None else path.with_name(f"{path.stem}-{index}{path.suffix}")


@contextlib.contextmanager
def _reserve_port(host: str, port: int) -> Iterator[int]:
    """Hold the port with SO_REUSEPORT so the children can bind it and nobody else takes it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        yield int(sock.getsockname()[1])
