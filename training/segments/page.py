"""The discovery as an HTML page: the tables plus plots of k, sizes, traits, RFM and planted overlap."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from training.report.html import HtmlReport, new_figure
from training.segments.discovery import SegmentDiscovery
from training.segments.report import k_frame, merge_lines, planted_lines, segment_frame, unit_note

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def page(d: SegmentDiscovery) -> HtmlReport:
    report = HtmlReport("Micro-segments")
    report.paragraph(
        f"{len(d.behaviour)} users with events before {d.model.as_of}; clustered on {', '.join(d.features)} "
        f"(log1p where skewed, standardized{unit_note(d)}); model fingerprint {d.model.fingerprint()}."
    )
    report.heading("Choosing k")
    report.table(k_frame(d), label_columns=0, digits=3)
    report.figure(_k_plot(d), "silhouette (chooses k) and bootstrap stability (mean ARI between resamples) per k")
    for line in merge_lines(d):
        report.paragraph(line)
    report.heading("Segments")
    report.table(segment_frame(d), digits=2)
    report.figure(_sizes(d), "users per segment")
    report.figure(_heat(d), "segment mean vs population, in population standard deviations (log1p scale)")
    report.figure(_rfm(d), "RFM score distribution per segment (5 = most recent / frequent / valuable)")
    if d.planted is not None:
        report.heading("Planted segments")
        report.preformatted("\n".join(planted_lines(d)))
        report.figure(_confusion(d.planted.confusion), "share of each planted segment in each discovered segment")
    return report


def _k_plot(d: SegmentDiscovery) -> Figure:
    figure = new_figure(7, 3)
    ax = figure.add_subplot()
    ks = [s.k for s in d.scores]
    ax.plot(ks, [s.silhouette for s in d.scores], marker="o", label="silhouette")
    ax.plot(ks, [s.stability for s in d.scores], marker="s", label="stability ARI")
    if d.planted is not None:
        ax.plot(ks, [d.planted.ari_by_k[k] for k in ks], marker="^", linestyle="--", label="ARI vs planted")
    ax.axvline(d.chosen.k, color="grey", linestyle=":", label=f"chosen k={d.chosen.k}")
    ax.set_xlabel("k")
    ax.set_ylim(0, 1.05)
    ax.legend(loc="lower left", fontsize=8)
    return figure


def _sizes(d: SegmentDiscovery) -> Figure:
    segments = d.model.segments
    figure = new_figure(7, 0.5 + 0.45 * len(segments))
    ax = figure.add_subplot()
    ax.barh([s.name for s in segments][::-1], [s.size for s in segments][::-1], color="#4c72b0")
    ax.axvline(d.min_size, color="grey", linestyle=":", label=f"minimum size {d.min_size}")
    ax.set_xlabel("users")
    ax.legend(fontsize=8)
    return figure


def _heat(d: SegmentDiscovery) -> Figure:
    z = d.trait_z
    figure = new_figure(1.5 + 0.75 * z.shape[1], 1.2 + 0.5 * z.shape[0])
    ax = figure.add_subplot()
    image = ax.imshow(z.to_numpy(), cmap="RdBu_r", vmin=-2, vmax=2, aspect="auto")
    ax.set_xticks(range(z.shape[1]), list(z.columns), rotation=45, ha="right")
    ax.set_yticks(range(z.shape[0]), list(z.index))
    for (i, j), value in np.ndenumerate(z.to_numpy()):
        ax.text(j, i, f"{value:+.1f}", ha="center", va="center", fontsize=7)
    figure.colorbar(image, ax=ax, label="z")
    return figure


def _rfm(d: SegmentDiscovery) -> Figure:
    names = [s.name for s in d.model.segments]
    figure = new_figure(10, 0.8 + 0.45 * len(names))
    for column, title in enumerate(("recency", "frequency", "monetary")):
        ax = figure.add_subplot(1, 3, column + 1)
        counts = pd.crosstab(d.labels, d.rfm[:, column]).reindex(columns=range(1, 6), fill_value=0)
        shares = counts.div(counts.sum(axis=1), axis=0).to_numpy()
        left = np.zeros(len(names))
        for score in range(5):
            ax.barh(range(len(names)), shares[:, score], left=left, label=str(score + 1), color=f"C{score}")
            left += shares[:, score]
        ax.set_yticks(range(len(names)), names if column == 0 else [""] * len(names))
        ax.invert_yaxis()
        ax.set_title(title)
        ax.set_xlim(0, 1)
    ax.legend(title="score", fontsize=7, bbox_to_anchor=(1.02, 1), loc="upper left")
    return figure


def _confusion(confusion: pd.DataFrame) -> Figure:
    shares = confusion.div(confusion.sum(axis=1), axis=0)
    figure = new_figure(1.5 + 1.6 * shares.shape[1], 1 + 0.45 * shares.shape[0])
    ax = figure.add_subplot()
    ax.imshow(shares.to_numpy(), cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(shares.shape[1]), [str(c) for c in shares.columns], rotation=30, ha="right")
    ax.set_yticks(range(shares.shape[0]), [str(i) for i in shares.index])
    for (i, j), value in np.ndenumerate(shares.to_numpy()):
        ax.text(j, i, f"{value:.0%}", ha="center", va="center", fontsize=8, color="white" if value > 0.6 else "black")
    ax.set_xlabel("discovered")
    ax.set_ylabel("planted")
    return figure
