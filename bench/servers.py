"""Servers under test as child processes: started pinned, awaited, measured, always killed.

Each server runs in its own process group so that workers it forks (uvicorn, MLServer's
inference pool, `decision serve --processes 2`) are stopped with it and counted in its RSS.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psutil


class ServerError(RuntimeError):
    """A server did not come up; the message carries the end of its log."""


@dataclass(frozen=True)
class Server:
    """A running server: its process, the port it answers on and where it logs."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process and its live descendants."""
        total = 0.0
        for process in self._family():
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total

    def _family(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.process.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def peak_rss_mb(self) -> float:
        """VmHWM of the process and all its descendants, in MiB (0 for ones already gone)."""
        return sum(_vm_hwm_kib(p.pid) for p in self._family()) / 1024


def _vm_hwm_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def free_port() -> int:
    """A port nothing listens on right now (for servers that cannot report their own)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_ready(path: str) -> Callable[[int], bool]:
    """A readiness probe: GET http://127.0.0.1:<port><path> answers 200."""

    def probe(port: int) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1) as reply:
                return int(reply.status) == 200
        except OSError:
            return False

    return probe


@contextmanager
def running(
    name: str,
    command: Sequence[str],
    *,
    log_dir: Path,
    core: str | None,
    port: int | None = None,
    port_file: Path | None = None,
    ready: Callable[[int], bool] | None = None,
    timeout_s: float = 90,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Iterator[Server]:
    """Start `command` (pinned to `core`), wait until it serves, yield it, then kill it.

    The port comes from `port` (chosen by the caller) or from `port_file`, which the server
    writes once it serves; `ready` is polled in addition when given.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{name}.log"
    if port_file is not None:
        port_file.unlink(missing_ok=True)  # a stale port from an earlier run is not readiness
    argv = ["taskset", "-c", core, *command] if core is not None else list(command)
    with log.open("wb") as sink:
        process = subprocess.Popen(
            argv,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=cwd,
            env={**os.environ, **(env or {})},
        )
    try:
        bound = _await_ready(name, process, log, port, port_file, ready, timeout_s)
        yield Server(name, process, bound, log)
    finally:
        _stop(process)


def _await_ready(
    name: str,
    process: subprocess.Popen[bytes],
    log: Path,
    port: int | None,
    port_file: Path | None,
    ready: Callable[[int], bool] | None,
    timeout_s: float,
) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"{name} exited with {process.returncode}:\n{_tail(log)}")
        bound = _read_port(port_file) if port_file is not None else port
        if bound is not None and (ready is None or ready(bound)):
            return bound
        time.sleep(0.2)
    raise ServerError(f"{name} was not serving after {timeout_s:.0f} s:\n{_tail(log)}")


def _read_port(port_file: Path) -> int | None:
    """The port a server wrote, or None while the file is absent or half written."""
    try:
        text = port_file.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the whole process group, SIGKILL whatever of it is left after 10 s."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def _tail(log: Path, lines: int = 25) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
