"""Plain-text tables for the terminal: what every analysis prints before it writes its HTML page."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd


def format_cell(value: object, digits: int = 4) -> str:
    """Numbers with a fixed number of decimals (integers without), NaN as '—', the rest as str."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{value:,.{digits}f}"
    return str(value)


def render(head: Sequence[str], body: Sequence[Sequence[object]], text_columns: int = 1, digits: int = 4) -> str:
    """Aligned columns: the first `text_columns` left-aligned (labels), the rest right-aligned (figures)."""
    rows = [[str(h) for h in head], *([format_cell(c, digits) for c in row] for row in body)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.ljust(width) if i < text_columns else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(rows[0]), "  ".join("-" * w for w in widths), *(line(r) for r in rows[1:])])


def render_frame(frame: pd.DataFrame, text_columns: int | None = None, digits: int = 4) -> str:
    """A DataFrame as `render` prints it; by default its leading non-numeric columns are the labels."""
    if text_columns is None:
        text_columns = 0
        for dtype in frame.dtypes:
            if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
                break
            text_columns += 1
    body = [list(row) for row in frame.itertuples(index=False, name=None)]
    return render(list(map(str, frame.columns)), body, text_columns, digits)
