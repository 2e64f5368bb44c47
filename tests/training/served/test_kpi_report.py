"""The KPI page and the terminal table."""

from __future__ import annotations

from pathlib import Path

from statsmodels.stats.proportion import proportion_confint

from tests.training.served.test_kpi import joined_frame
from training.served.kpi import kpi_table, timeline
from training.served.kpi_report import shown_table, terminal_table, write_kpi_report


def test_the_terminal_table_shows_rates_with_intervals() -> None:
    kpis = kpi_table(joined_frame(), ["tier"])
    lines = terminal_table(kpis).splitlines()
    assert lines[0].split() == [
        "dimension", "value", "decisions", "click", "rate", "click", "95%", "CI", "conv.", "rate", "conv.", "95%", "CI",
        "revenue/decision", "revenue", "95%", "CI",
    ]  # fmt: skip
    low, high = proportion_confint(4, 15, method="wilson")
    assert lines[2].split()[:6] == ["all", "all", "15", "0.2667", f"[{low:.4f},", f"{high:.4f}]"]
    assert len(lines) == 2 + 4  # header, rule, all, three tiers
    revenue = shown_table(kpis).set_index("value")["revenue 95% CI"]
    assert (revenue["default"], revenue["rules"]) == ("—", "[0.00, 0.00]")  # one decision: no interval


def test_the_page_has_a_table_and_one_figure_per_plotted_dimension_and_two_over_time(tmp_path: Path) -> None:
    frame = joined_frame()
    kpis = kpi_table(frame)
    page = write_kpi_report(kpis, timeline(frame), "joined.parquet", tmp_path / "reports" / "kpi.html")
    text = page.read_text(encoding="utf-8")
    assert text.count("<img") == 4 + 2  # tier, placement, segment, arm; decisions and click rate over time
    assert "click rate per placement (95 % Wilson interval)" in text
    assert '<td class="label">hero v2: B</td>' in text
