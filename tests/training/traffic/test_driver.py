"""The driver against a fake server: outcomes per decision, the ground-truth file, the stop conditions."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from tests.training.traffic.fake_api import FakeApi
from training.traffic.driver import simulate
from training.traffic.ground_truth import GroundTruth
from training.traffic.moment import MomentStream
from training.traffic.population import SIMULATION_START, draw_population
from training.traffic.summary import SimulationSummary
from training.traffic.target import TargetError
from training.traffic.truth_table import COLUMNS

TARGET = "127.0.0.1:50051"


def run(tmp_path: Path, api: FakeApi, decisions: int = 1_000, **options: object) -> SimulationSummary:
    options = {"users": 300, "progress": False, "out": tmp_path / "truth.parquet"} | options
    return simulate(TARGET, decisions, 3, api=api, **options)  # type: ignore[arg-type]


def test_every_answered_decision_is_one_row_and_one_impression(tmp_path: Path) -> None:
    api = FakeApi()
    summary = run(tmp_path, api, max_results=2, batch_size=50)
    truths = pd.read_parquet(tmp_path / "truth.parquet")
    assert len(truths) == summary.decisions == summary.asked == api.asked == 1_000
    assert list(truths.columns) == list(COLUMNS)
    assert truths["decision_id"].is_unique
    kinds = Counter(o.outcome_type for o in api.outcomes)
    assert kinds["impression"] == 1_000
    assert kinds["click"] == truths["clicks"].sum() == summary.clicks
    assert kinds["conversion"] == truths["conversion"].sum() == summary.conversions
    assert len({o.idempotency_key for o in api.outcomes}) == len(api.outcomes)
    assert {o.content_id for o in api.outcomes if o.outcome_type == "impression"} == {""}
    assert summary.stopped_by == "decisions"
    no_consent = truths[~truths["consent"]]
    assert (no_consent["source"] == "RULE").all()
    assert (no_consent["content_id"] == "generic_home_hero").all()


def test_outcomes_carry_the_user_only_with_consent_and_the_order_value_with_a_conversion(tmp_path: Path) -> None:
    api = FakeApi()
    run(tmp_path, api, decisions=3_000)
    rows = pd.read_parquet(tmp_path / "truth.parquet").set_index("decision_id").to_dict("index")
    for outcome in api.outcomes:
        row = rows[outcome.decision_id]
        assert outcome.consent == row["consent"]
        assert bool(outcome.user_id) == row["consent"]
        if outcome.outcome_type == "conversion":
            assert outcome.value == row["value"] > 0
        else:
            assert outcome.value == 0.0


def test_the_file_holds_the_truth_of_what_was_shown(tmp_path: Path) -> None:
    """Each row's probabilities are the truth's for the question the run asked at that index (asked again here)."""
    run(tmp_path, FakeApi(), decisions=500)
    truths = pd.read_parquet(tmp_path / "truth.parquet")
    questions = MomentStream(draw_population(300, 3), 3, SIMULATION_START, 7.0).take(500)
    truth = GroundTruth()
    for row in truths.to_dict("records"):
        user, moment = questions[row["decision_index"]]
        assert (row["segment"], row["placement"], row["region"], row["consent"]) == (
            user.segment,
            moment.placement,
            user.region,
            user.consent,
        )
        assert row["p_click"] == truth.click_probability(user, row["content_id"], moment)
        assert (row["best_content_id"], row["p_best"]) == truth.best(user, moment)
        assert row["p_conversion"] == truth.conversion_probability(user)


def test_the_file_holds_no_user_id(tmp_path: Path) -> None:
    run(tmp_path, FakeApi(), decisions=300)
    raw = (tmp_path / "truth.parquet").read_bytes()
    assert b"sim-u" not in raw
    assert "user_id" not in pd.read_parquet(tmp_path / "truth.parquet").columns


def test_the_same_seed_repeats_the_run(tmp_path: Path) -> None:
    first = run(tmp_path / "a", FakeApi(), decisions=800).truths
    again = run(tmp_path / "b", FakeApi(), decisions=800).truths
    pd.testing.assert_frame_equal(first, again)
    other = simulate(TARGET, 800, 4, users=300, progress=False, api=FakeApi()).truths
    assert not first["segment"].equals(other["segment"])


def test_planted_lifts_reach_the_truth_column(tmp_path: Path) -> None:
    plain = run(tmp_path / "a", FakeApi(), decisions=600).truths
    lifted = run(tmp_path / "b", FakeApi(), decisions=600, plants=["content=generic_home_hero,lift=1.0"]).truths
    hero = plain["content_id"] == "generic_home_hero"
    assert hero.any()
    assert (lifted.loc[hero, "p_click"] == 2 * plain.loc[hero, "p_click"]).all()
    assert (lifted.loc[~hero, "p_click"] == plain.loc[~hero, "p_click"]).all()


def test_refused_entries_are_counted_and_leave_no_row(tmp_path: Path) -> None:
    summary = run(tmp_path, FakeApi(refuse_every=10), decisions=500)
    assert (summary.asked, summary.refused, summary.decisions) == (500, 50, 450)
    assert summary.refusal_reasons[0] == "context.region: too long"
    assert "refused 50 (first: context.region: too long)" in summary.table()


def test_the_time_limit_stops_between_batches(tmp_path: Path) -> None:
    """The clock reads 0 at the start, then 1 and 2 before the first two batches, then 3: the limit."""
    ticks = iter(range(1_000))
    summary = run(tmp_path, FakeApi(), decisions=10_000, batch_size=100, max_seconds=3, clock=lambda: next(ticks))
    assert (summary.stopped_by, summary.asked) == ("time", 200)
    assert len(pd.read_parquet(tmp_path / "truth.parquet")) == 200


def test_ctrl_c_keeps_what_was_simulated(tmp_path: Path) -> None:
    summary = run(tmp_path, FakeApi(interrupt_at_batch=3), decisions=1_000, batch_size=64)
    assert (summary.stopped_by, summary.asked) == ("interrupted", 128)
    assert len(pd.read_parquet(tmp_path / "truth.parquet")) == 128


def test_the_summary_tells_sources_segments_and_speed(tmp_path: Path) -> None:
    summary = run(tmp_path, FakeApi(), decisions=700)
    text = summary.table()
    assert "simulated 700 decisions against 127.0.0.1:50051 (seed 3)" in text
    consented = int(summary.truths["consent"].sum())
    assert summary.count_by("source") == {"MODEL": consented, "RULE": 700 - consented}
    by_segment = summary.by("segment")
    assert by_segment["decisions"].sum() == 700
    assert (by_segment["ci95_low"] <= by_segment["click_rate"]).all()
    assert (by_segment["click_rate"] <= by_segment["ci95_high"]).all()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"decisions": 0}, "simulate at least 1"),
        ({"batch_size": 1_001}, "use 1 to 1000"),
        ({"max_results": 51}, "use 1 to 50"),
        ({"max_seconds": 0.0}, "give a positive time limit"),
        ({"plants": ["content=x"]}, "needs content= and lift="),
        ({"population": []}, "the population is empty"),
    ],
)
def test_bad_options_are_named(options: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"decisions": 10, "users": 10, "progress": False, "api": FakeApi()} | options
    with pytest.raises(ValueError, match=message):
        simulate(TARGET, **arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize("target", ["10.0.0.1:50051", "decision.internal:50051"])
def test_a_target_off_this_machine_is_refused_before_anything_is_sent(target: str) -> None:
    api = FakeApi()
    with pytest.raises(TargetError, match="the simulator only drives a server on this machine"):
        simulate(target, 10, users=10, progress=False, api=api)
    assert api.asked == 0
