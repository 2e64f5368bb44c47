"""How an experiment's analysis is shown: the terminal text and the HTML page with its plots."""

from __future__ import annotations

from pathlib import Path

from training.report.html import HtmlReport
from training.report.table import render_frame
from training.stats import plots
from training.stats.analysis import ExperimentAnalysis
from training.stats.factorial import FactorialAnalysis

_TERMINAL_COLUMNS = [
    "segment", "arm", "exposures", "estimate", "abs_lift", "rel_lift", "rel_low", "rel_high",
    "p_value", "p_adjusted", "seq_low", "seq_high", "chance_to_beat",
]  # fmt: skip


def _summary(analysis: ExperimentAnalysis) -> list[str]:
    planned = analysis.planned_users_per_arm
    lines = [
        f"experiment {analysis.experiment_id}: metric {analysis.metric}, control {analysis.control_arm}",
        f"alpha {analysis.alpha}, correction {analysis.correction}, family of {analysis.family_size} comparisons "
        f"(segments × treatment arms); always-valid intervals at alpha {analysis.sequential_alpha:.4g}",
        f"planned users per arm: {planned:,}"
        if planned
        else "planned users per arm: not given (no 'no effect' verdict)",
    ]
    mismatched = analysis.sample_ratio.loc[analysis.sample_ratio["mismatch"], "segment"].tolist()
    if mismatched:
        lines.append(
            f"WARNING sample-ratio mismatch in {mismatched}: assignment or logging is broken there; "
            "do not trust those segments' results until it is explained"
        )
    degraded = analysis.guardrails[analysis.guardrails["degraded"]]
    for row in degraded.itertuples():
        lines.append(f"GUARDRAIL {row.metric} degraded by {row.arm} in {row.segment} (lift {row.abs_lift:+.4g})")
    if analysis.interaction is not None:
        test = analysis.interaction.test
        lines.append(
            f"segment × arm interaction (LR test over {len(analysis.interaction.segments)} segments): "
            f"chi2 {test.statistic:.3f}, df {test.df}, p {test.p_value:.4g}"
        )
    return lines


def render_analysis(analysis: ExperimentAnalysis) -> str:
    """The text the CLI prints: summary lines, the segment × arm table and the verdicts."""
    parts = [
        "\n".join(_summary(analysis)),
        render_frame(analysis.arms[_TERMINAL_COLUMNS], text_columns=2),
        render_frame(analysis.verdicts, text_columns=3),
    ]
    return "\n\n".join(parts)


def write_report(analysis: ExperimentAnalysis, path: Path) -> Path:
    """The HTML page: summary, tables (arms, verdicts, SRM, guardrails) and both plots; returns `path`."""
    page = HtmlReport(f"Experiment {analysis.experiment_id}: {analysis.metric}")
    for line in _summary(analysis):
        page.paragraph(line)
    page.heading("Verdicts")
    page.table(analysis.verdicts, label_columns=3)
    page.heading("Arms per segment")
    page.paragraph(
        "estimate: rate (Wilson interval; exact = Clopper-Pearson) or mean (t interval); abs/rel lift against "
        "control with fixed-horizon intervals; seq_low/seq_high: always-valid interval of the absolute lift."
    )
    page.table(analysis.arms, label_columns=2)
    page.figure(plots.lift_intervals(analysis.arms, analysis.control_arm), "absolute lift per segment and arm")
    segments = analysis.verdicts["segment"].tolist()
    page.figure(
        plots.cumulative_lift(analysis.timeline, analysis.control_arm, segments),
        "cumulative absolute lift by day with its always-valid band (largest segments)",
    )
    page.heading("Sample-ratio check")
    page.table(analysis.sample_ratio)
    if not analysis.guardrails.empty:
        page.heading("Guardrails")
        page.table(analysis.guardrails, label_columns=3)
    return page.write(path)


def render_factorial(result: FactorialAnalysis) -> str:
    """A multivariate experiment in text: the interaction test, then both coefficient tables."""
    test = result.interaction_test
    verdict = (
        "p < 0.05: the factors interact, read the effects with interactions"
        if test.p_value < 0.05
        else "p >= 0.05: no evidence of interaction, read the main effects"
    )
    return "\n\n".join(
        [
            f"factors {', '.join(result.factors)}: LR test of all interactions chi2 {test.statistic:.3f}, "
            f"df {test.df}, p {test.p_value:.4g} ({verdict})",
            "main effects (additive model, odds ratios against the reference levels)",
            render_frame(result.main_effects, text_columns=2),
            "effects with interactions",
            render_frame(result.effects, text_columns=2),
        ]
    )
