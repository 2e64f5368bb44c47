"""Ground-truth rows: experiment fields from the provenance, an empty answer as an empty answer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from training.traffic.exchange import Answer, ShownItem
from training.traffic.moment import Moment
from training.traffic.population import draw_population
from training.traffic.reaction import Reaction
from training.traffic.truth_table import COLUMNS, Truths, TruthTable

AT = datetime(2026, 4, 3, 9, 15, tzinfo=UTC)


def test_rows_carry_the_experiment_arm_and_nothing_shown_is_null(tmp_path: Path) -> None:
    user = draw_population(1, 2)[0]
    table = TruthTable()
    arm = Answer(
        "d-1",
        "OTHER",
        "experiments",
        (ShownItem("home-2", 0.5),),
        experiment_id="hero-test",
        arm="treatment",
        arm_probability=0.5,
    )
    table.add(0, user, Moment("home_banner", AT), arm, Truths((0.04,), 0.1, "home-1", 0.09), Reaction((True,), 1, 31.5))
    nothing = Answer("d-2", "DEFAULT", "default", ())
    table.add(1, user, Moment("email", AT, "email"), nothing, Truths((), 0.1, None, 0.0), Reaction((), None, 0.0))
    frame = pd.read_parquet(table.write(tmp_path / "out" / "truth.parquet"))
    assert list(frame.columns) == list(COLUMNS)
    first, second = frame.to_dict("records")
    assert (first["experiment_id"], first["arm"], first["arm_probability"]) == ("hero-test", "treatment", 0.5)
    assert (first["content_id"], first["p_click"], first["click"], first["conversion"], first["value"]) == (
        "home-2",
        0.04,
        True,
        True,
        31.5,
    )
    assert first["occurred_at"] == pd.Timestamp(AT)
    for column in ("content_id", "item_probability", "best_content_id", "experiment_id", "arm", "arm_probability"):
        assert pd.isna(second[column]), column
    assert (second["items"], second["p_click"], second["clicks"]) == (0, 0.0, 0)
