"""Reading the service's decision and outcome logs (JSON lines) into column frames.

Lines are parsed by `decision.feedback.jsonlines.read_json_lines` (a torn last line is
skipped, any other bad line is named), so record `k` of a file is its line `k`. Each record
becomes a tuple at once and, every `CHUNK` records, the tuples become one typed frame: only
a chunk's worth of Python objects is alive at a time, and the strings end up in pandas'
compact Arrow-backed columns (a million parsed decision records take gigabytes; their
columns about 250 MB).
"""

from __future__ import annotations

import glob
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from decision.feedback.jsonlines import read_json_lines

CHUNK = 50_000
Progress = Callable[[int], object]

DECISION_COLUMNS = (
    "decision_id",
    "request_id",
    "time",
    "placement",
    "region",
    "device",
    "channel",
    "consent",
    "user_key",
    "segment",
    "source",
    "tier",
    "rule_id",
    "ruleset_version",
    "model_name",
    "model_version",
    "experiment_id",
    "experiment_version",
    "arm",
    "arm_probability",
    "levels",
    "eligible",
    "items_shown",
)
ITEM_COLUMNS = ("row", "content_id", "rank", "probability", "score")
OUTCOME_COLUMNS = ("decision_id", "type", "content_id", "value", "occurred_at", "received_at", "idempotency_key")


class ServedLogError(ValueError):
    """A log cannot be read as the service writes it; the message names the file and line."""


@dataclass(frozen=True)
class DecisionFrames:
    """The decision log as two frames: one row per record, and one per shown item (`row` points into the first)."""

    decisions: pd.DataFrame
    items: pd.DataFrame


def expand(patterns: Sequence[str | Path]) -> list[Path]:
    """The files named by paths or glob patterns, each once, in a stable order.

    A pattern that matches nothing is an error: a mistyped path must not silently join
    nothing (a decision log read without its outcomes would make every reward the default).
    """
    found: dict[Path, None] = {}
    for pattern in patterns:
        text = str(pattern)
        matches = sorted(glob.glob(text)) if glob.has_magic(text) else ([text] if Path(text).is_file() else [])
        if not matches:
            raise ServedLogError(f"{text}: no such file; pass log files or a glob such as 'var/decisions*.jsonl'")
        found.update((Path(m), None) for m in matches)
    return list(found)


def read_decisions(paths: Sequence[Path], progress: Progress = lambda n: None) -> DecisionFrames:
    """Every decision record of every file, in file order (duplicates are the join's business)."""
    decisions: list[pd.DataFrame] = []
    items: list[pd.DataFrame] = []
    for path in paths:
        rows: list[tuple[object, ...]] = []
        shown: list[tuple[object, ...]] = []
        first_line = 1
        for line, record in enumerate(read_json_lines(path), start=1):
            _decision_row(record, path, line, len(rows), rows, shown)
            if len(rows) == CHUNK:
                _flush_decisions(rows, shown, path, first_line, decisions, items, progress)
                first_line = line + 1
        _flush_decisions(rows, shown, path, first_line, decisions, items, progress)
    if not decisions:
        return DecisionFrames(_decision_frame([], Path(), 1), _item_frame([], 0))
    return DecisionFrames(pd.concat(decisions, ignore_index=True), pd.concat(items, ignore_index=True))


def read_outcomes(paths: Sequence[Path], progress: Progress = lambda n: None) -> pd.DataFrame:
    """Every outcome record of every file, in file order."""
    frames: list[pd.DataFrame] = []
    for path in paths:
        rows: list[tuple[object, ...]] = []
        first_line = 1
        for line, record in enumerate(read_json_lines(path), start=1):
            rows.append(_outcome_row(record, path, line))
            if len(rows) == CHUNK:
                frames.append(_outcome_frame(rows, path, first_line))
                progress(len(rows))
                rows, first_line = [], line + 1
        if rows:
            frames.append(_outcome_frame(rows, path, first_line))
            progress(len(rows))
    return pd.concat(frames, ignore_index=True) if frames else _outcome_frame([], Path(), 1)


def _flush_decisions(
    rows: list[tuple[object, ...]],
    shown: list[tuple[object, ...]],
    path: Path,
    first_line: int,
    decisions: list[pd.DataFrame],
    items: list[pd.DataFrame],
    progress: Progress,
) -> None:
    """Turn a chunk of rows into frames (item rows numbered across every file) and empty the lists."""
    if not rows:
        return
    offset = sum(len(frame) for frame in decisions)
    decisions.append(_decision_frame(rows, path, first_line))
    items.append(_item_frame(shown, offset))
    progress(len(rows))
    rows.clear()
    shown.clear()


def _decision_row(
    record: dict[str, Any],
    path: Path,
    line: int,
    row: int,
    rows: list[tuple[object, ...]],
    shown: list[tuple[object, ...]],
) -> None:
    decision_id = record.get("decision_id")
    if not decision_id or not isinstance(decision_id, str):
        raise ServedLogError(f"{path}:{line}: no decision_id; is this a decision log?")
    context = record.get("context") or {}
    experiment = record.get("experiment") or {}
    items = record.get("items") or []
    levels = experiment.get("levels")
    rows.append(
        (
            decision_id,
            record.get("request_id") or "",
            record.get("time"),
            record.get("placement") or "",
            context.get("region") or "",
            context.get("device") or "",
            context.get("channel") or "",
            record.get("consent") is True,
            record.get("user_key") or "",
            record.get("segment") or "",
            record.get("source") or "",
            record.get("tier") or "",
            record.get("rule_id") or "",
            record.get("ruleset_version") or "",
            record.get("model_name") or "",
            record.get("model_version") or "",
            experiment.get("id") or "",
            str(experiment.get("version") or ""),
            experiment.get("arm") or "",
            experiment.get("probability", 1.0),
            json.dumps(levels, sort_keys=True) if levels else "",
            record.get("eligible", -1),
            len(items),
        )
    )
    try:
        shown.extend((row, i["content_id"], i["rank"], i["probability"], i["score"]) for i in items)
    except (KeyError, TypeError):
        raise ServedLogError(
            f"{path}:{line}: an item lacks content_id, rank, probability or score; is this a decision log?"
        ) from None


def _outcome_row(record: dict[str, Any], path: Path, line: int) -> tuple[object, ...]:
    decision_id = record.get("decision_id")
    kind = record.get("type")
    if not decision_id or not kind:
        raise ServedLogError(f"{path}:{line}: no decision_id or type; is this an outcome log?")
    content_id = record.get("content_id") or ""
    # The server derives this key when the caller sends none; older lines may lack it.
    key = record.get("idempotency_key") or f"{decision_id}|{kind}|{content_id}"
    return (
        decision_id,
        kind,
        content_id,
        record.get("value") or 0.0,
        record.get("occurred_at"),
        record.get("received_at"),
        key,
    )


def _decision_frame(rows: list[tuple[object, ...]], path: Path, first_line: int) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=DECISION_COLUMNS)
    for name in DECISION_COLUMNS:
        if name not in ("time", "consent", "arm_probability", "eligible", "items_shown"):
            frame[name] = frame[name].astype("str")
    frame["time"] = _timestamps(frame["time"], path, first_line, "time", required=True)
    frame["consent"] = frame["consent"].astype(bool)
    frame["arm_probability"] = frame["arm_probability"].astype("float64")
    frame["eligible"] = frame["eligible"].astype("int64")
    frame["items_shown"] = frame["items_shown"].astype("int64")
    return frame


def _outcome_frame(rows: list[tuple[object, ...]], path: Path, first_line: int) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=OUTCOME_COLUMNS)
    for name in ("decision_id", "type", "content_id", "idempotency_key"):
        frame[name] = frame[name].astype("str")
    frame["value"] = frame["value"].astype("float64")
    frame["occurred_at"] = _timestamps(frame["occurred_at"], path, first_line, "occurred_at", required=False)
    frame["received_at"] = _timestamps(frame["received_at"], path, first_line, "received_at", required=True)
    return frame


def _item_frame(shown: list[tuple[object, ...]], offset: int) -> pd.DataFrame:
    """Item rows of one chunk; `row` (chunk-local while reading) becomes the decision's global row."""
    frame = pd.DataFrame.from_records(shown, columns=ITEM_COLUMNS).astype(
        {"row": "int64", "content_id": "str", "rank": "int64", "probability": "float64", "score": "float64"}
    )
    frame["row"] += offset
    return frame


def _timestamps(raw: pd.Series, path: Path, first_line: int, field: str, required: bool) -> pd.Series:
    """ISO-8601 text to UTC nanoseconds; a missing required or unparsable value names its line."""
    stamps = pd.to_datetime(raw, format="ISO8601", utc=True, errors="coerce").astype("datetime64[ns, UTC]")
    bad = stamps.isna() & (raw.notna() | required)
    if bad.any():
        k = int(bad.to_numpy().nonzero()[0][0])
        raise ServedLogError(
            f"{path}:{first_line + k}: {field} {raw.iloc[k]!r} is not an ISO-8601 timestamp; "
            "the service writes e.g. 2026-12-02T05:33:07.661161+00:00"
        )
    return stamps
