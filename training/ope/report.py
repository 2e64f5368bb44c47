"""What an OPE run shows: the estimates table in the terminal, and an HTML page with the intervals and the weights."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from training.ope.obd import UniformCheck
from training.ope.run import LOGGED, OpeResult
from training.report.html import HtmlReport, new_figure
from training.report.table import render_frame

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

CAVEAT = (
    "SE is the delta-method standard error, the interval the bootstrap percentile interval. "
    "Both hold the cross-fitted reward model fixed, so DM's look far narrower than its real error: "
    "its bias (where the model is wrong) is not in them. ESS = (sum w)^2 / sum w^2 of the importance weights."
)


def terminal_table(result: OpeResult) -> str:
    """The estimates as the terminal shows them, ESS with one decimal, and what the figures mean."""
    frame = result.frame()
    frame["ESS"] = [f"{ess:,.1f}" for ess in frame["ESS"]]
    return f"{_heading(result)}\n\n{render_frame(frame, text_columns=1, digits=5)}\n\n{CAVEAT}"


def write_report(result: OpeResult, path: Path) -> Path:
    """The HTML page: the table, the estimates with their intervals, and the distribution of the weights."""
    report = HtmlReport(f"Off-policy evaluation: {result.policy}")
    report.paragraph(_heading(result))
    report.table(result.frame(), digits=5)
    report.paragraph(CAVEAT)
    flagged = [e.estimator for e in result.estimates if e.flag]
    if flagged:
        report.paragraph(f"Too thin to trust: {', '.join(flagged)} ({result.estimates[0].flag}).")
    report.figure(_estimates_figure(result), "Estimates with their bootstrap intervals; dashed: the logged mean.")
    report.figure(_weights_figure(result), "Importance weights pi/p of the logged decisions (log scale).")
    return report.write(path)


def _error_bars(axes: Axes, values: np.ndarray, positions: np.ndarray, errors: np.ndarray, colors: list[str]) -> None:
    """A point with a horizontal error bar per row; `errors` is (2, rows): below and above."""
    for value, position, below, above, color in zip(values, positions, errors[0], errors[1], colors, strict=True):
        axes.errorbar([value], [position], xerr=[[below], [above]], fmt="o", color=color, capsize=4)


def _heading(result: OpeResult) -> str:
    heading = (
        f"Policy {result.policy!r} on {result.source}: {result.decisions:,} decisions, {result.actions} actions, "
        f"{result.positive_rewards:,} positive rewards with weight > 0; reward model: {result.reward_model}; "
        f"{result.replicates:,} {result.bootstrap} bootstrap replicates (seed {result.config.seed})."
    )
    if result.certain_decisions:
        heading += (
            f" {result.certain_decisions / result.decisions:.1%} of the decisions were logged with probability 1 "
            "(deterministic tiers): the logs hold no reward for other actions there, so IPS, SNIPS and DR count what "
            "the policy would earn by choosing differently as nothing; leave them out (read_joined sources=...)."
        )
    return heading


def _estimates_figure(result: OpeResult) -> Figure:
    figure = new_figure(7.0, 0.6 + 0.5 * len(result.estimates))
    axes = figure.add_subplot()
    rows = [e for e in result.estimates if e.estimator != LOGGED]
    positions = np.arange(len(rows))[::-1]
    values = np.array([e.value for e in rows])
    errors = np.array([[e.value - e.low for e in rows], [e.high - e.value for e in rows]])
    colors = ["tab:red" if e.flag else "tab:blue" for e in rows]
    _error_bars(axes, values, positions, np.clip(errors, 0.0, None), colors)
    logged = result.estimate(LOGGED)
    axes.axvline(logged.value, color="grey", linestyle="--", linewidth=1)
    axes.set_yticks(positions, [e.estimator + (" (thin)" if e.flag else "") for e in rows])
    axes.set_xlabel("estimated value (mean reward per decision)")
    return figure


def _weights_figure(result: OpeResult) -> Figure:
    figure = new_figure(7.0, 3.0)
    axes = figure.add_subplot()
    positive = result.weights[result.weights > 0]
    zero_share = 1.0 - len(positive) / max(len(result.weights), 1)
    if len(positive):
        bins = np.logspace(np.log10(positive.min()), np.log10(positive.max()) + 1e-9, 50)
        axes.hist(positive, bins=bins.tolist(), color="tab:blue")
        axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel(f"weight (zero for {zero_share:.1%} of decisions, not shown)")
    axes.set_ylabel("decisions")
    return figure


def write_uniform_check_report(check: UniformCheck, path: Path) -> Path:
    """The Open Bandit Dataset check: per campaign, each estimate from the bts logs against the random logs' rate."""
    report = HtmlReport("Off-policy evaluation on the Open Bandit Dataset: uniform policy from the bts logs")
    report.paragraph(
        "Each campaign's bts logs estimate what the uniform random policy would have earned; the random logs of "
        "the same campaign measured it. The check: |z| <= 1.96, z = difference / sqrt(SE_ope^2 + SE_random^2)."
    )
    report.table(check.rows, label_columns=2, digits=5)
    report.paragraph(CAVEAT)
    figure = new_figure(7.0, 3.8)
    axes = figure.add_subplot()
    rows = check.rows
    positions = np.arange(len(rows))[::-1]
    errors = 1.96 * rows["SE"].to_numpy()
    colors = ["tab:red" if flag != "ok" else "tab:blue" for flag in rows["flag"]]
    _error_bars(axes, rows["estimate (bts logs)"].to_numpy(), positions, np.vstack([errors, errors]), colors)
    for _, group in rows.groupby("campaign", sort=False):
        span = positions[group.index.to_numpy()]
        rate, half = group["random logs' rate"].iloc[0], 1.96 * group["random SE"].iloc[0]
        axes.fill_betweenx([span.min() - 0.4, span.max() + 0.4], rate - half, rate + half, color="grey", alpha=0.25)
        axes.vlines(rate, span.min() - 0.4, span.max() + 0.4, color="grey")
    labels = [
        f"{c} {e}" + (" (thin)" if f != "ok" else "")
        for c, e, f in zip(rows["campaign"], rows["estimator"], rows["flag"], strict=True)
    ]
    axes.set_yticks(positions, labels)
    axes.set_xlabel("click rate (points: estimate +- 1.96 SE; grey: random logs' rate +- 1.96 SE)")
    report.figure(figure, "Estimates from the bts logs (red: too thin to trust) against the random logs' own rate.")
    return report.write(path)
