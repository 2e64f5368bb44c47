"""The serving-side segment assigner: nearest centroid, RFM scores, cold users, the model file."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from decision.sources.features import Profile
from decision.sources.segment_file import SegmentProfile
from decision.sources.segments import COLD_SEGMENT, NO_RFM, RfmEdges, SegmentModel, SegmentModelError

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def segment(name: str) -> SegmentProfile:
    return SegmentProfile(name, 10, 0.5, (3.0, 3.0, 3.0), 0.2, 0.5, (("toys", 0.6),), (("sessions", 1.2),))


def model() -> SegmentModel:
    """Two segments on (log1p sessions, recency days): frequent-and-recent vs rare-and-lapsed."""
    return SegmentModel(
        feature_names=("sessions", "recency_days"),
        log1p=(True, False),
        means=(1.0, 20.0),
        scales=(0.5, 10.0),
        centroids=((1.0, -1.0), (-1.0, 1.0)),
        segments=(segment("frequent recently-active shoppers"), segment("occasional lapsing browsers")),
        rfm=RfmEdges((2.0, 5.0, 10.0, 30.0), (1.0, 1.0, 3.0, 6.0), (0.0, 0.0, 20.0, 80.0)),
        as_of=NOW.isoformat(),
        discovery={"chosen_k": 2},
    )


def user(sessions: int, recency_days: float, monetary: float = 0.0) -> Profile:
    last = NOW - timedelta(days=recency_days)
    return Profile(
        user_id="u",
        as_of=NOW,
        first_seen=NOW - timedelta(days=60),
        last_seen=last,
        session_start=last,
        events=sessions * 5,
        sessions=sessions,
        monetary=monetary,
        purchases=1 if monetary else 0,
    )


def test_assign_picks_the_nearest_centroid_in_the_transformed_space() -> None:
    # log1p(20) = 3.04 -> (3.04 - 1) / 0.5 = +4.1; (1 - 20) / 10 = -1.9: nearest (1, -1)
    assert model().assign(user(20, 1.0), NOW).segment == "frequent recently-active shoppers"
    # log1p(1) = 0.69 -> -0.61; (45 - 20) / 10 = +2.5: nearest (-1, 1)
    assert model().assign(user(1, 45.0), NOW).segment == "occasional lapsing browsers"


def test_a_user_without_a_profile_gets_the_cold_segment() -> None:
    assert model().assign(None, NOW).segment == COLD_SEGMENT
    assert model().assign(None, NOW).rfm == NO_RFM == (0, 0, 0)


@pytest.mark.parametrize(
    ("recency", "frequency", "monetary", "expected"),
    [
        (1.0, 7.0, 100.0, (5, 5, 5)),
        (2.0, 1.0, 0.0, (5, 1, 1)),  # on an edge: scored with the values below it
        (3.0, 2.0, 20.0, (4, 3, 3)),
        (31.0, 4.0, 21.0, (1, 4, 4)),
    ],
)
def test_rfm_scores_against_hand_made_edges(
    recency: float, frequency: float, monetary: float, expected: tuple[int, int, int]
) -> None:
    edges = RfmEdges((2.0, 5.0, 10.0, 30.0), (1.0, 1.0, 3.0, 6.0), (0.0, 0.0, 20.0, 80.0))
    assert edges.scores(recency, frequency, monetary) == expected


def test_tied_edges_give_the_whole_tied_block_one_score() -> None:
    edges = RfmEdges((1.0, 2.0, 3.0, 4.0), (1.0, 2.0, 3.0, 4.0), (0.0, 0.0, 0.0, 50.0))
    # everyone who never bought scores 1; anything above 0 skips straight to 4
    assert [edges.scores(0.5, 0.5, m)[2] for m in (0.0, 0.01, 50.0, 50.5)] == [1, 4, 4, 5]


def test_json_round_trip_keeps_every_field(tmp_path: Path) -> None:
    original = model()
    loaded = SegmentModel.load(original.save(tmp_path / "segments.json"))
    assert loaded == original
    assert loaded.fingerprint() == original.fingerprint()
    assert loaded.assign(user(20, 1.0, 30.0), NOW) == original.assign(user(20, 1.0, 30.0), NOW)


def test_label_and_transform_agree_with_assign() -> None:
    m = model()
    assert m.label([20.0, 1.0]) == m.assign(user(20, 1.0), NOW).segment
    assert m.transform([math.e - 1, 20.0]) == pytest.approx([0.0, 0.0])
    with pytest.raises(ValueError, match=r"expected 2 values \(sessions, recency_days\)"):
        m.transform([1.0])


def edited(change: Any) -> str:
    raw = json.loads(model().to_json())
    change(raw)
    return json.dumps(raw)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", r"model.json: line 1, column 2: not JSON"),
        ("[]", r"model.json: field '\(top level\)': expected an object"),
        (edited(lambda r: r.pop("centroids")), r"model.json: field 'centroids' is missing"),
        (
            edited(lambda r: r["centroids"][1].pop()),
            r"field 'centroids\[1\]': expected a list of 2 numbers",
        ),
        (
            edited(lambda r: r["features"]["means"].__setitem__(0, "1")),
            r"'features.means\[0\]': expected a finite",
        ),
        (edited(lambda r: r["features"].__setitem__("log1p", [1, 0])), r"field 'features.log1p': expected 2 booleans"),
        (edited(lambda r: r["segments"][1].__setitem__("size", -3)), r"field 'segments\[1\].size': expected a non-neg"),
        (edited(lambda r: r["segments"][0].pop("name")), r"field 'segments\[0\].name' is missing"),
        (
            edited(lambda r: r["rfm"]["monetary_edges"].reverse()),
            r"'rfm.monetary_edges': edges must not decrease",
        ),
        (
            edited(lambda r: r.__setitem__("format_version", 9)),
            r"'format': expected 'decision-segments' version 1",
        ),
        (edited(lambda r: r["features"]["names"].__setitem__(0, "shoe_size")), r"model.json: unknown feature"),
        (edited(lambda r: r["features"]["scales"].__setitem__(0, 0)), r"model.json: feature scales must be positive"),
        (edited(lambda r: r["segments"].pop()), r"model.json: 1 segments for 2 centroids"),
        (edited(lambda r: r["centroids"][0].__setitem__(0, 0.5)), r"field 'fingerprint': .* edited after training"),
    ],
)
def test_a_malformed_model_is_refused_naming_file_and_field(text: str, message: str) -> None:
    with pytest.raises(SegmentModelError, match=message):
        SegmentModel.from_json(text, "model.json")


def test_nan_in_the_file_is_refused() -> None:
    text = edited(lambda r: r["centroids"][0].__setitem__(1, math.nan))
    with pytest.raises(SegmentModelError, match=r"field 'centroids\[0\]\[1\]': expected a finite number, got nan"):
        SegmentModel.from_json(text, "model.json")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SegmentModelError, match=r"none.json: cannot read segment model"):
        SegmentModel.load(tmp_path / "none.json")


def test_segment_names_must_be_unique_and_not_the_cold_one() -> None:
    twin = model()
    with pytest.raises(SegmentModelError, match="segment names must be unique"):
        SegmentModel(**{**_fields(twin), "segments": (segment("a"), segment("a"))})
    with pytest.raises(SegmentModelError, match="differ from 'unknown'"):
        SegmentModel(**{**_fields(twin), "segments": (segment("a"), segment(COLD_SEGMENT))})


def _fields(m: SegmentModel) -> dict[str, Any]:
    names = ("feature_names", "log1p", "means", "scales", "centroids", "segments", "rfm", "as_of", "discovery")
    return {n: getattr(m, n) for n in names}
