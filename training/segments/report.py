"""The discovery as tables: what the terminal prints and the HTML page repeats."""

from __future__ import annotations

import pandas as pd

from training.report.table import render_frame
from training.segments.clustering import Scaling
from training.segments.discovery import SegmentDiscovery


def k_frame(d: SegmentDiscovery) -> pd.DataFrame:
    """One row per k tried: silhouette (chooses k), stability, inertia, and the planted ARI if known."""
    rows = []
    for s in d.scores:
        row: dict[str, object] = {
            "k": s.k,
            "silhouette": s.silhouette,
            "stability ARI": s.stability,
            "stability min": s.stability_min,
            "inertia": s.inertia,
        }
        if d.planted is not None:
            row["planted ARI"] = d.planted.ari_by_k[s.k]
        row["chosen"] = "<-" if s.k == d.chosen.k else ""
        rows.append(row)
    return pd.DataFrame(rows)


def segment_frame(d: SegmentDiscovery) -> pd.DataFrame:
    """The per-segment profile stored in the model, one row per segment."""
    return pd.DataFrame(
        [
            {
                "segment": p.name,
                "users": p.size,
                "share": p.share,
                "R": p.rfm_mean[0],
                "F": p.rfm_mean[1],
                "M": p.rfm_mean[2],
                "conversion": p.conversion_rate,
                "buyers": p.buyer_share,
                "top categories": ", ".join(f"{c} {share:.0%}" for c, share in p.top_categories),
            }
            for p in d.model.segments
        ]
    )


def unit_note(d: SegmentDiscovery) -> str:
    """How the chosen k's unit differs from the population SD, when it does."""
    if d.scaling is not Scaling.WITHIN:
        return ""
    units = ", ".join(f"{n} {u:.2f}" for n, u in zip(d.features, d.divisor, strict=True))
    return f"; each in its within-segment SD, in population SDs: {units}"


def merge_lines(d: SegmentDiscovery) -> list[str]:
    if not d.merges:
        return [f"no cluster below the minimum size ({d.min_size} users); nothing merged"]
    return [
        f"cluster {m.cluster} ({m.size} users < {d.min_size}) merged into cluster {m.into}, its nearest"
        for m in d.merges
    ]


def summary(d: SegmentDiscovery) -> str:
    """Everything the terminal shows, in reading order."""
    pruned = "; ".join(f"{p.feature} (r={p.correlation:.2f} with {p.kept})" for p in d.pruned) or "none"
    parts = [
        f"users: {len(d.behaviour)} with events before {d.model.as_of}",
        f"clustering features: {', '.join(d.features)} (log1p where skewed, standardized){unit_note(d)}",
        f"dropped as near-duplicates: {pruned}",
        "",
        render_frame(k_frame(d), text_columns=0, digits=3),
        "",
        *merge_lines(d),
        "",
        render_frame(segment_frame(d), digits=2),
    ]
    if d.planted is not None:
        parts += ["", *planted_lines(d)]
    return "\n".join(parts)


def planted_lines(d: SegmentDiscovery) -> list[str]:
    p = d.planted
    if p is None:
        return []
    best_k = max(p.ari_by_k, key=lambda k: p.ari_by_k[k])
    confusion = p.confusion.reset_index()
    confusion.columns = [str(c) for c in confusion.columns]
    return [
        f"planted vs discovered: adjusted Rand index {p.ari:.3f} ({len(d.model.segments)} segments)",
        "",
        render_frame(confusion),
        "",
        "reference points (same users, same features, same scale):",
        f"  best ARI any k reaches:                  {p.ari_by_k[best_k]:.3f} (k={best_k})",
        f"  nearest planted-segment mean:            {p.nearest_mean_ari:.3f}",
        f"  supervised ceiling (LDA, 5-fold CV):     {p.supervised_ari:.3f}",
        "",
        "planted segments' spread (quartiles) on the clustering features:",
        render_frame(p.spread, digits=1),
    ]
