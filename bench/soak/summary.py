"""From what a soak observed to its tables, verdict lines, files and exit status."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from bench.meta import loadavg
from bench.soak import report
from bench.soak.drive import Soaked
from bench.soak.options import EXIT_FAILED, EXIT_NOT_FLAT
from bench.soak.verdict import MIN_COUNT_GROWTH, Flatness, frame, quarter_table, verdicts


def headline(args: argparse.Namespace, started: float, load_before: list[float]) -> str:
    """When, where and how the server was set up: what a reader needs to repeat the run."""
    where = (
        f"server on core {args.server_core}, loads on core {args.load_core}"
        if args.pin
        else f"--processes {args.processes}, not pinned"
    )
    return (
        f"soak {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(started))}, git {args.git_commit}, "
        f"{os.cpu_count()} CPUs, {where}, load avg {load_before[0]:.1f}->{loadavg()[0]:.1f}, "
        f"{time.time() - started:,.0f} s; rules poll {args.rules_poll_seconds:g} s, model poll "
        f"{args.model_poll_seconds:g} s, compile timeout {args.model_compile_timeout_seconds:g} s, "
        f"{'free-running' if args.free_running else 'lockstep'}"
    )


def failures(soaked: Soaked) -> list[str]:
    """Why the soak fails apart from memory: failed calls, changes not activated, an early stop."""
    found = [f"FAILED: {kind} x{count:,}" for kind, count in sorted(soaked.errors().items())]
    found += [f"FAILED: {problem}" for problem in soaked.problems]
    done = soaked.samples[-1].counts if soaked.samples else {}
    found += [
        f"FAILED: {name} stopped at {done.get(name, 0):,} of {target:,}"
        for name, target in soaked.targets.items()
        if done.get(name, 0) < target and not soaked.problems
    ]
    return found


def not_flat(found: list[Flatness]) -> list[str]:
    """One line per load (or overall) that is not flat, saying what grew and by how much."""
    lines = []
    for f in found:
        if f.flat:
            continue
        if not f.complete:
            lines.append(f"NOT FLAT: {f.name}: did not reach its target, no last quarter to compare")
            continue
        growing = f.growing()
        said = []
        if "RSS" in growing:
            said.append(
                f"last quarter's mean RSS {f.q4.rss_mib:,.0f} MiB is {100 * f.change:+.1f} % of the second "
                f"quarter's {f.q2.rss_mib:,.0f} MiB (limit ±{100 * f.tolerance:g} %)"
            )
        if "threads" in growing:
            said.append(f"threads grew from {f.q2.threads:.0f} to {f.q4.threads:.0f} (quarter means)")
        if "fds" in growing:
            said.append(f"open files grew from {f.q2.fds:.0f} to {f.q4.fds:.0f} (quarter means)")
        lines.append(f"NOT FLAT: {f.name}: " + "; ".join(said))
    return lines


def notes(args: argparse.Namespace, soaked: Soaked) -> list[str]:
    """What the reader must know to read the figures right."""
    found = [
        "Flat: the last quarter's mean RSS within "
        f"{100 * args.tolerance:g} % of the second quarter's (the first quarter is warm-up), and mean threads and "
        f"open files not more than {100 * args.tolerance:g} % (and {MIN_COUNT_GROWTH:g}) higher. Per load, the "
        "quarters are those of its own count; overall, those of the run's time. 'growth KiB' is the "
        "least-squares slope of RSS over the load's count from its second quarter on (overall: per hour).",
        "Model swaps move the alias between two registered versions holding the same artifacts "
        + (
            "and wait for native code (lleaves) to score each new version."
            if args.model_compile_timeout_seconds > 0
            else "with --model-compile-timeout-seconds 0: LightGBM scores each new version, so swaps are "
            "not dominated by native compilation."
        ),
    ]
    if len(soaked.targets) > 1:
        found.append(
            "The loads ran concurrently"
            + ("" if args.free_running else " in lockstep (each at the same share of its target)")
            + ": every per-load verdict sees the memory of all of them. Run one with --only to attribute a leak."
        )
    if soaked.traffic is not None and soaked.traffic.counts.unexpected():
        answers = dict(soaked.traffic.counts.answers)
        reasons = [state.fallbacks for state in soaked.last_states]
        found.append(
            f"Decisions not answered by the tier their request was meant for (not errors): {answers}; "
            f"the server's fallback reasons (decision_fallbacks_total): {reasons}"
        )
    refused = sum(state.rules_refused for state in soaked.last_states)
    if refused:
        found.append(f"The server refused {refused} rule-folder states (seen half-written); each was then activated.")
    return found


def conclude(soaked: Soaked, args: argparse.Namespace, started: float, load_before: list[float]) -> int:
    """Print the tables and verdicts, write the files; the exit status."""
    line = headline(args, started, load_before)
    if not soaked.samples or soaked.loads_start == 0.0:
        print(line + "\n" + "\n".join(failures(soaked)))
        return EXIT_FAILED
    data = frame(soaked.samples)
    names = list(soaked.targets)
    quarters = quarter_table(data, names, soaked.loads_start)
    found = verdicts(data, soaked.marks, soaked.loads_start, args.tolerance)
    done = soaked.samples[-1].counts
    table = report.verdict_frame(found, soaked.targets, done)
    failed, memory = failures(soaked), not_flat(found)
    said = notes(args, soaked)
    print("\n" + line + "\n\n" + report.text(quarters, table) + "\n")
    for verdict in [*memory, *failed] or ["OK: memory flat for every load and overall; every call answered"]:
        print(verdict)
    figure = report.plot(data, soaked.marks, soaked.targets, soaked.loads_start, line)
    document = _document(soaked, args, line, quarters, table, failed, memory, data)
    written = report.write(args.out, line, quarters, table, figure, document, [*memory, *failed, *said])
    log = args.out / "server.log"
    print("wrote " + ", ".join(str(path) for path in [*written, *([log] if log.exists() else [])]))
    return EXIT_FAILED if failed else EXIT_NOT_FLAT if memory else 0


def _document(
    soaked: Soaked, args: argparse.Namespace, line: str, quarters: Any, table: Any, failed: list[str],
    memory: list[str], data: Any,
) -> dict[str, Any]:  # fmt: skip
    traffic = soaked.traffic.counts if soaked.traffic else None
    return {
        "headline": line,
        "settings": {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()},
        "targets": soaked.targets,
        "done": soaked.samples[-1].counts,
        "traffic": None
        if traffic is None
        else {"calls": traffic.calls, "outcomes": traffic.outcomes, "answers": dict(traffic.answers)},
        "errors": dict(soaked.errors()),
        "rules_refused_by_server": sum(state.rules_refused for state in soaked.last_states),
        "server_fallbacks": [state.fallbacks for state in soaked.last_states],
        "alias_retries": soaked.swaps.alias_retries if soaked.swaps else 0,
        "quarters": report.records(quarters),
        "verdicts": report.records(table),
        "failures": failed,
        "not_flat": memory,
        "marks": soaked.marks,
        "loads_start": soaked.loads_start,
        "samples": report.records(data),
    }
