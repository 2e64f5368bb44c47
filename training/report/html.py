"""A self-contained HTML page (tables and matplotlib plots inlined as PNG) that a person can open.

One file, no external assets: it can be mailed, attached to a ticket or logged to MLflow.
"""

from __future__ import annotations

import base64
import html
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from training.report.table import format_cell

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.7em; text-align: right; }
th { background: #f4f4f4; } td.label, th.label { text-align: left; }
figure { margin: 1em 0; } figcaption { color: #555; font-size: 0.9em; }
.meta { color: #777; font-size: 0.85em; }
"""


class HtmlReport:
    """Build a page section by section, then `write` it."""

    def __init__(self, title: str) -> None:
        self.title = title
        self._parts: list[str] = []

    def heading(self, text: str, level: int = 2) -> None:
        self._parts.append(f"<h{level}>{html.escape(text)}</h{level}>")

    def paragraph(self, text: str) -> None:
        self._parts.append(f"<p>{html.escape(text)}</p>")

    def preformatted(self, text: str) -> None:
        """Text shown as printed in the terminal (a table, a verdict)."""
        self._parts.append(f"<pre>{html.escape(text)}</pre>")

    def table(self, frame: pd.DataFrame, label_columns: int = 1, digits: int = 4) -> None:
        """A table; the first `label_columns` columns are left-aligned labels."""
        head = "".join(
            f'<th class="label">{html.escape(str(c))}</th>' if i < label_columns else f"<th>{html.escape(str(c))}</th>"
            for i, c in enumerate(frame.columns)
        )
        rows = []
        for row in frame.itertuples(index=False, name=None):
            cells = "".join(
                f'<td class="label">{html.escape(format_cell(v, digits))}</td>'
                if i < label_columns
                else f"<td>{html.escape(format_cell(v, digits))}</td>"
                for i, v in enumerate(row)
            )
            rows.append(f"<tr>{cells}</tr>")
        self._parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")

    def figure(self, figure: Figure, caption: str = "") -> None:
        """Inline a matplotlib figure as a PNG and close it (figures hold memory until closed)."""
        import matplotlib.pyplot as plt

        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
        plt.close(figure)
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        caption_html = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        self._parts.append(
            f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">{caption_html}</figure>'
        )

    def render(self) -> str:
        made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        body = "\n".join(self._parts)
        return (
            f"<!doctype html>\n<html><head><meta charset='utf-8'><title>{html.escape(self.title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{html.escape(self.title)}</h1>"
            f'<p class="meta">generated {made}</p>\n{body}\n</body></html>\n'
        )

    def write(self, path: Path) -> Path:
        """Write the page (creating parent folders); returns the path for the caller to print."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.render(), encoding="utf-8")
        return path


def new_figure(width: float = 7.0, height: float = 3.5) -> Figure:
    """A figure on the non-interactive Agg backend (no display on servers and CI machines)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))
