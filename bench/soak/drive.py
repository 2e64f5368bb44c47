"""One soak: the server started, the loads run to their targets side by side, the server sampled throughout."""

from __future__ import annotations

import argparse
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bench.servers import Server
from bench.soak.decisions import Traffic, TrafficShape
from bench.soak.options import targets
from bench.soak.progress import Progress
from bench.soak.reloads import RuleReloads
from bench.soak.sampler import Sample, Sampler
from bench.soak.scrape import MetricsWatch, ServerState
from bench.soak.serve import serving
from bench.soak.swaps import ModelSwaps
from bench.soak.world import World

MODEL_READY_SECONDS = 300.0


@dataclass
class Soaked:
    """Everything a soak observed, for the report."""

    targets: dict[str, int]
    samples: list[Sample]
    marks: dict[str, list[float]]
    loads_start: float
    traffic: Traffic | None
    reloads: RuleReloads | None
    swaps: ModelSwaps | None
    last_states: Sequence[ServerState]
    problems: list[str] = field(default_factory=list)  # what stopped the soak early, if anything

    def errors(self) -> Counter[str]:
        """Failed calls and changes that were not activated in time, by kind."""
        found: Counter[str] = Counter()
        if self.traffic is not None:
            found.update(self.traffic.counts.errors)
        for load in (self.reloads, self.swaps):
            if load is not None:
                found.update(load.errors)
        return found


def soak(world: World, args: argparse.Namespace, user_key: str) -> Soaked:
    """Run the selected loads against a fresh server; the server's log is copied to --out."""
    chosen = targets(args)
    progress = Progress(chosen, lockstep=not args.free_running, clock_zero=time.monotonic())
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        with serving(world, args, user_key) as (server, metrics_port):
            return _drive(server, metrics_port, world, args, progress, chosen)
    finally:
        if (world.root / "server.log").exists():
            shutil.copy(world.root / "server.log", args.out / "server.log")


def _drive(
    server: Server,
    metrics_port: int,
    world: World,
    args: argparse.Namespace,
    progress: Progress,
    chosen: dict[str, int],
) -> Soaked:
    watch = MetricsWatch(metrics_port, args.processes, args.scrape_seconds)
    watch.start()
    scorer = "native" if args.model_compile_timeout_seconds > 0 else None
    timeout = args.change_timeout
    traffic = reloads = swaps = None
    if "decisions" in chosen:
        shape = TrafficShape(
            args.users, args.batch_size, args.single_every, args.outcome_every, args.clients, args.call_timeout
        )
        traffic = Traffic(server.port, shape, progress)
    if "reloads" in chosen:
        reloads = RuleReloads(world.rules, watch, progress, timeout)
    if "swaps" in chosen:
        swaps = ModelSwaps(world.tracking_uri, world.versions, watch, progress, scorer=scorer, timeout_s=timeout)
    loads = [load for load in (traffic, reloads, swaps) if load is not None]
    soaked = Soaked(chosen, [], {}, 0.0, traffic, reloads, swaps, ())
    sampler = Sampler(
        server.process.pid, args.processes, progress, lambda: sum(soaked.errors().values()), args.sample_seconds
    )
    sampler.start()
    try:
        first = world.versions[0]
        ready = watch.wait_for(
            lambda states: all(s.model_version == first and scorer in (None, s.model_scorer) for s in states),
            MODEL_READY_SECONDS,
        )
        if not ready:
            soaked.problems.append(f"the server did not serve model v{first} within {MODEL_READY_SECONDS:g} s")
            return soaked
        soaked.loads_start = progress.now()
        print(f"server ready (pid {server.process.pid}, port {server.port}); loads: " + _counts(progress, chosen))
        _run_loads([load.run for load in loads], server, progress, sampler, watch, args.progress_seconds, soaked)
    finally:
        sampler.stop()
        watch.stop()
        soaked.samples = sampler.samples
        soaked.marks = {name: progress.marks(name) for name in chosen}
        soaked.last_states = watch.latest
    return soaked


def _run_loads(
    bodies: list[Callable[[], None]],
    server: Server,
    progress: Progress,
    sampler: Sampler,
    watch: MetricsWatch,
    every: float,
    soaked: Soaked,
) -> None:
    """Start every load, print a status line every `every` s, stop them all if the server dies."""
    threads = [threading.Thread(target=body, name=f"soak-load-{i}", daemon=True) for i, body in enumerate(bodies)]
    for thread in threads:
        thread.start()
    next_status = time.monotonic() + every
    try:
        while any(thread.is_alive() for thread in threads):
            time.sleep(0.5)
            if server.process.poll() is not None and not progress.aborted:
                soaked.problems.append(f"the server exited with status {server.process.returncode}; see server.log")
                progress.abort()
                watch.stop()  # a reload or swap waiting for the dead server gives up at once
            if time.monotonic() >= next_status:
                next_status += every
                print(_status(progress, sampler, soaked), flush=True)
    except KeyboardInterrupt:
        soaked.problems.append("interrupted")
        progress.abort()
        watch.stop()
        for thread in threads:
            thread.join(timeout=180)


def _counts(progress: Progress, chosen: dict[str, int]) -> str:
    done = progress.counts()
    return ", ".join(f"{name} {done[name]:,}/{target:,}" for name, target in chosen.items())


def _status(progress: Progress, sampler: Sampler, soaked: Soaked) -> str:
    last = sampler.samples[-1] if sampler.samples else None
    memory = f"RSS {last.rss_mib:,.0f} MiB, {last.threads} threads, {last.fds} fds" if last else "not sampled yet"
    errors = sum(soaked.errors().values())
    return f"{progress.now():7.0f} s  {_counts(progress, soaked.targets)}; {memory}; errors {errors}"
