"""The terminal tables and the HTML page: what they show, and that no user id is in them."""

from __future__ import annotations

from pathlib import Path

from training.segments.discovery import SegmentDiscovery
from training.segments.page import page
from training.segments.report import k_frame, summary


def test_summary_shows_k_table_merges_segments_and_planted(discovery: SegmentDiscovery) -> None:
    text = summary(discovery)
    assert "silhouette  stability ARI" in text
    assert "no cluster below the minimum size (10 users)" in text
    assert all(s.name in text for s in discovery.model.segments)
    assert "planted vs discovered: adjusted Rand index" in text
    assert "supervised ceiling (LDA, 5-fold CV)" in text


def test_the_chosen_k_is_marked_once(discovery: SegmentDiscovery) -> None:
    frame = k_frame(discovery)
    assert frame.loc[frame["chosen"] == "<-", "k"].tolist() == [discovery.chosen.k]


def test_page_has_tables_and_five_plots(discovery: SegmentDiscovery, tmp_path: Path) -> None:
    html = page(discovery).write(tmp_path / "segments.html").read_text()
    assert html.count("data:image/png;base64,iVBOR") == 5
    assert "Planted segments" in html


def test_no_user_id_in_what_is_printed_or_written(discovery: SegmentDiscovery) -> None:
    shown = summary(discovery) + page(discovery).render()
    assert not any(p.user_id in shown for p in discovery.behaviour.profiles)
