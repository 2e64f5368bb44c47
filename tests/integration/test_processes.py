"""`decision serve --processes 2`: two processes share the port, each pinned to its own
CPU when there are enough; a dead one is restarted on the same CPU."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import grpc
import psutil

from decision.runtime.supervisor import child_cpus
from decision.v1 import decision_service_pb2 as pb
from decision.v1 import decision_service_pb2_grpc as pb_grpc
from tests.integration.serving import start_server


def _children(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children()


def _affinities(pid: int) -> list[frozenset[int]]:
    """Each child's CPU mask, sorted (the order of psutil's children is not the spawn order)."""
    return sorted((frozenset(os.sched_getaffinity(c.pid)) for c in _children(pid)), key=sorted)


def _expected_affinities() -> list[frozenset[int]]:
    """What the supervisor must do here: one CPU each, or the parent's whole mask if too few."""
    allowed = frozenset(os.sched_getaffinity(0))
    masks = (allowed if cpu is None else frozenset({cpu}) for cpu in child_cpus(2, allowed))
    return sorted(masks, key=sorted)


def _decide(port: int) -> pb.DecideResponse:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        return pb_grpc.DecisionServiceStub(channel).Decide(
            pb.DecideRequest(user_id="u1", placement="home_banner", personalization_consent=pb.CONSENT_GRANTED),
            timeout=5,
        )


def test_two_processes_serve_one_port_and_a_killed_one_comes_back(tmp_path: Path) -> None:
    parent, port = start_server(tmp_path, "--processes", "2", "--grace-seconds", "1")
    try:
        children = _children(parent.pid)
        assert len(children) == 2
        assert _affinities(parent.pid) == _expected_affinities()
        assert _decide(port).source == pb.DECISION_SOURCE_DEFAULT
        os.kill(children[0].pid, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while {c.pid for c in _children(parent.pid)} & {children[0].pid} or len(_children(parent.pid)) < 2:
            assert time.monotonic() < deadline, "the killed process was not replaced"
            time.sleep(0.1)
        assert _decide(port).source == pb.DECISION_SOURCE_DEFAULT
        assert _affinities(parent.pid) == _expected_affinities()  # the new one took the dead one's CPU
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=15) == 0
        assert not _children_alive(children)
    finally:
        parent.kill()
        subprocess.run(["pkill", "-P", str(parent.pid)], check=False)


def _children_alive(children: list[psutil.Process]) -> bool:
    return any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children)
