"""The server's resident memory, threads and open files, sampled on a fixed interval with each load's progress.

With `--processes N` the server is a parent and N serving children: their sum is what the
machine pays. Grandchildren (the model load check and compiler, a fresh interpreter for a
second or two per swap) are left out: they are not the service's memory over time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import psutil

from bench.soak.progress import Progress

MIB = 1024 * 1024


@dataclass(frozen=True)
class Sample:
    """One look at the server (`t` on the run's clock) and at the loads' counts then."""

    t: float
    rss_mib: float
    threads: int
    fds: int
    counts: dict[str, int]
    errors: int


def server_family(pid: int, processes: int) -> list[psutil.Process]:
    """The processes that make up the server: itself, and its serving children when it supervises them."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=False)] if processes > 1 else [root]
    except psutil.NoSuchProcess:
        return []  # the server died: the samples show nothing from here on, and the soak fails


def measure(processes: list[psutil.Process]) -> tuple[float, int, int]:
    """RSS (MiB), threads and file descriptors summed over `processes` (ones gone count nothing)."""
    rss = threads = fds = 0
    for process in processes:
        try:
            with process.oneshot():
                rss += process.memory_info().rss
                threads += process.num_threads()
                fds += process.num_fds()
        except psutil.NoSuchProcess:
            continue
    return rss / MIB, threads, fds


class Sampler:
    """A thread that appends a Sample every `interval` seconds until stopped."""

    def __init__(
        self, pid: int, processes: int, progress: Progress, errors: Callable[[], int], interval: float
    ) -> None:
        self._pid, self._processes = pid, processes
        self._progress = progress
        self._errors = errors
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-sampler", daemon=True)
        self.samples: list[Sample] = []

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop after one last sample, so the end of the run is in the record."""
        self._stop.set()
        self._thread.join(timeout=30)

    def take(self) -> Sample:
        # Children are looked up each time: the supervisor restarts a child that dies.
        rss, threads, fds = measure(server_family(self._pid, self._processes))
        return Sample(self._progress.now(), rss, threads, fds, self._progress.counts(), self._errors())

    def _run(self) -> None:
        while True:
            self.samples.append(self.take())
            if self._stop.wait(self._interval):
                self.samples.append(self.take())
                return
