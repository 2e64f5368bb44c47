"""The run's outputs: a terminal table, a JSON file with every figure, a latency plot (PNG)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from bench.measure import Figures

COLUMNS = (
    ("max req/s", "max_rps", "{:,.0f}"),
    ("decisions/s", "decisions_per_s", "{:,.0f}"),
    ("open rate/s", "open_rate", "{:,.0f}"),
    ("p50 ms", "p50_ms", "{:.2f}"),
    ("p90 ms", "p90_ms", "{:.2f}"),
    ("p99 ms", "p99_ms", "{:.2f}"),
    ("unloaded p50 ms", "unloaded_p50_ms", "{:.2f}"),
    ("peak RSS MiB", "peak_rss_mb", "{:,.0f}"),
    ("server CPU %", "server_cpu_pct", "{:.0f}"),
    ("h2load CPU %", "load_cpu_pct", "{:.0f}"),
    ("decisions/CPU-s", "decisions_per_cpu_s", "{:,.0f}"),
)


def _cell(value: float, pattern: str) -> str:
    return "-" if math.isnan(value) else pattern.format(value)


def short_error(error: str) -> str:
    """First and last line of an error (a server's log tail ends with the real cause)."""
    lines = [line.strip() for line in error.splitlines() if line.strip()]
    text = lines[0] if len(lines) < 2 else f"{lines[0]} ... {lines[-1]}"
    return text[:300]


def table(figures: Sequence[Figures], targets: Sequence[dict[str, object]]) -> str:
    """A fixed-width table of every case, then the targets and whether each is met."""
    width = max(len(f.label) for f in figures) + 2
    head = "case".ljust(width) + "".join(f"{title:>{len(title) + 2}}" for title, _, _ in COLUMNS)
    lines = [head, "-" * len(head)]
    for f in figures:
        if f.error:
            lines.append(f.label.ljust(width) + f"  unavailable: {short_error(f.error)}")
            continue
        cells = "".join(f"{_cell(getattr(f, key), fmt):>{len(title) + 2}}" for title, key, fmt in COLUMNS)
        lines.append(f.label.ljust(width) + cells)
    lines += ["", "targets (ratios from this run):"]
    for t in targets:
        value = t["value"]
        shown = "n/a" if value is None else f"{value:.3f}"
        verdict = "n/a" if t["met"] is None else ("MET" if t["met"] else "MISSED")
        lines.append(f"  {t['name']:<58} {shown:>8}  (need {t['op']} {t['bound']})  {verdict}")
    return "\n".join(lines)


def write_json(
    path: Path,
    figures: Sequence[Figures],
    meta: dict[str, object],
    targets: Sequence[dict[str, object]],
) -> None:
    """Every figure, the latency curves, the targets and the versions, as one JSON document."""
    cases = [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(f).items()} for f in figures
    ]
    document = {"meta": meta, "cases": cases, "targets": list(targets)}
    path.write_text(json.dumps(document, indent=2))


def plot(path: Path, figures: Sequence[Figures], title: str) -> None:
    """Left: maximum throughput per case. Right: latency percentiles at half that rate."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measured = [f for f in figures if not f.error]
    fig, (bars, curves) = plt.subplots(1, 2, figsize=(15, 6.5), width_ratios=(1, 1.25))
    labels = [f.label for f in measured]
    values = [f.decisions_per_s for f in measured]
    drawn = bars.barh(labels, values, color=[_colour(f.name) for f in measured])
    bars.bar_label(drawn, labels=[f"{v:,.0f}" for v in values], padding=3, fontsize=8)
    bars.set_xscale("log")
    low = 10 ** math.floor(math.log10(max(1.0, min(values, default=1.0) / 2)))
    bars.set_xlim(low, max(values, default=10.0) * 4)
    bars.invert_yaxis()
    bars.set_xlabel("decisions per second at saturation (closed loop, log scale)")
    bars.set_title("Maximum throughput")
    for f in measured:
        tail = [_tail_position(q) for q, _ in f.latency_curve_ms]
        latencies = [ms for _, ms in f.latency_curve_ms]
        curves.plot(
            tail,
            latencies,
            label=f"{f.label} @ {f.open_rate:,.0f}/s",
            color=_colour(f.name),
            linewidth=1.6,
        )
    ticks = (0.0, 50.0, 90.0, 99.0, 99.9)
    curves.set_xticks([_tail_position(q) for q in ticks], [f"p{q:g}" for q in ticks])
    curves.set_yscale("log")
    curves.set_xlabel("percentile of requests (tail stretched: each step right is 10x rarer)")
    curves.set_ylabel("latency, ms (log scale)")
    curves.set_title("Latency at half of each one's maximum rate (open loop)")
    curves.grid(True, which="both", linewidth=0.3)
    curves.legend(fontsize=8, loc="lower right")
    fig.suptitle(title, fontsize=10)
    missing = [f"{f.label}: {short_error(f.error)[:150]}" for f in figures if f.error]
    if missing:
        fig.text(0.01, 0.01, "not measured - " + "\n".join(missing), fontsize=7, color="#b00000", va="bottom")
    fig.tight_layout(rect=(0, 0.03 * len(missing), 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _tail_position(percentile: float) -> float:
    """x = -log10(1 - q): p50 at 0.3, p90 at 1, p99 at 2, p99.9 at 3."""
    return -math.log10(max(1e-4, 1 - percentile / 100))


def _colour(name: str) -> str:
    palette = {
        "ceiling": "#7f7f7f",
        "decide_rule": "#1f77b4",
        "decide_model": "#2ca02c",
        "decide_batch": "#17becf",
        "decide_model_2proc": "#9467bd",
        "mlflow_serve": "#d62728",
        "mlserver_rest": "#ff7f0e",
        "mlserver_grpc": "#bcbd22",
    }
    return palette.get(name, "#333333")
