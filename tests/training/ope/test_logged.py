"""Logged feedback: encoding per distinct context, and refusals that name the file, column and row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.ope.logged import LogError, LoggedFeedback


def frame(**overrides: object) -> pd.DataFrame:
    data: dict[str, object] = {
        "segment": ["a", "b", "a", "c"],
        "action": ["x", "y", "y", "x"],
        "p": [0.5, 0.25, 0.5, 1.0],
        "r": [1, 0, 0, 1],
    }
    data.update(overrides)
    return pd.DataFrame(data)


def encode(data: pd.DataFrame, columns: tuple[str, ...] = ("segment",)) -> LoggedFeedback:
    return LoggedFeedback.from_frame(
        data,
        context_columns=columns,
        action_column="action",
        propensity_column="p",
        reward_column="r",
        source="log.parquet",
    )


def test_decisions_are_encoded_against_distinct_contexts_and_sorted_actions() -> None:
    logged = encode(frame())
    assert logged.contexts["segment"].tolist() == ["a", "b", "c"]
    assert logged.context_index.tolist() == [0, 1, 0, 2]
    assert logged.actions == ("x", "y")
    assert logged.action.tolist() == [0, 1, 1, 0]
    assert logged.decisions == 4
    no_context = encode(frame(), ())
    assert len(no_context.contexts) == 1
    assert np.all(no_context.context_index == 0)


def test_missing_columns_are_named_with_the_file() -> None:
    with pytest.raises(LogError, match=r"log.parquet: missing column.s. p; it has segment, action, r"):
        encode(frame().drop(columns="p"))


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("p", [0.5, 0.0, 0.5, 1.0], r"column p must be in \(0, 1\]; 1 row\(s\) are not, first at row 1: 0.0"),
        ("p", [0.5, 0.25, 1.5, 1.0], r"column p must be in \(0, 1\]; 1 row\(s\) are not, first at row 2: 1.5"),
        ("r", [1, None, 0, 1], r"column r must be a finite number; 1 row\(s\) are not, first at row 1"),
        ("r", [1, 0, "yes", 1], r"column r must be a finite number; .* first at row 2: 'yes'"),
    ],
)
def test_bad_values_are_refused_with_their_row(column: str, values: list[object], message: str) -> None:
    with pytest.raises(LogError, match=message):
        encode(frame(**{column: values}))


def test_an_empty_log_is_refused() -> None:
    with pytest.raises(LogError, match="no decisions to evaluate"):
        encode(frame().iloc[:0])
