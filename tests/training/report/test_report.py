"""The terminal table and the HTML page every analysis writes."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from training.report.html import HtmlReport, new_figure
from training.report.table import render, render_frame


def test_render_aligns_labels_left_and_figures_right() -> None:
    text = render(["arm", "rate"], [["control", 0.1], ["b", 0.12345]])
    assert text.splitlines() == ["arm        rate", "-------  ------", "control  0.1000", "b        0.1235"]


def test_render_frame_treats_leading_text_columns_as_labels_and_nan_as_a_dash() -> None:
    frame = pd.DataFrame({"segment": ["a"], "arm": ["x"], "n": [1200], "rate": [math.nan]})
    lines = render_frame(frame).splitlines()
    assert lines[0].split() == ["segment", "arm", "n", "rate"]
    assert lines[2].split() == ["a", "x", "1,200", "—"]


def test_html_page_holds_the_table_and_an_inline_png(tmp_path: Path) -> None:
    report = HtmlReport("KPI <report>")
    report.table(pd.DataFrame({"tier": ["RULE"], "decisions": [3]}))
    figure = new_figure()
    figure.add_subplot().plot([0, 1], [0, 1])
    report.figure(figure, "a line")
    page = report.write(tmp_path / "out" / "report.html").read_text()
    assert "KPI &lt;report&gt;" in page
    assert '<td class="label">RULE</td><td>3</td>' in page
    assert "data:image/png;base64,iVBOR" in page  # a real PNG header, base64-encoded
