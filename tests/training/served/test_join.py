"""The join on hand-built logs whose right answer is obvious, and a round trip through the service's own writers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from decision.domain import Context, Decision, Item, Outcome, Provenance, Request, Source
from decision.feedback.decision_log import DecisionLog
from decision.feedback.outcomes import OutcomeLog
from decision.pipeline.context import RequestContext
from decision.privacy import Pseudonymizer
from tests.conftest import TEST_USER_KEY
from tests.fakes import no_sources
from tests.training.served.logs import T0, at, decision, outcome, write_lines
from training.served.join import Joined, JoinOptions, join_files

KEYS = Pseudonymizer(bytes.fromhex(TEST_USER_KEY))


def run(
    tmp_path: Path,
    decisions: Sequence[Sequence[dict[str, object]]],
    outcomes: Sequence[Sequence[dict[str, object]]],
    **options: object,
) -> Joined:
    """Write each list as its own file (as replicas do) and join them all."""
    decision_files = [write_lines(tmp_path / f"decisions-{i}.jsonl", d) for i, d in enumerate(decisions)]
    outcome_files = [write_lines(tmp_path / f"outcomes-{i}.jsonl", o) for i, o in enumerate(outcomes)]
    return join_files(decision_files, outcome_files, JoinOptions(**options))  # type: ignore[arg-type]


def row(joined: Joined, decision_id: str) -> pd.Series:
    rows = joined.decisions[joined.decisions["decision_id"] == decision_id]
    assert len(rows) == 1
    return rows.iloc[0]


def test_window_edges_are_included_and_anything_past_them_is_counted(tmp_path: Path) -> None:
    microsecond = timedelta(microseconds=1)
    joined = run(
        tmp_path,
        [[decision(f"d{i}") for i in range(4)]],
        [
            [
                outcome("d0", occurred_at=at(minutes=30)),  # the window's last instant
                outcome("d1", occurred_at=at(minutes=30) + microsecond),
                outcome("d2", occurred_at=at(minutes=-5)),  # client clock 5 minutes behind: the tolerance
                outcome("d3", occurred_at=at(minutes=-5) - microsecond),
            ]
        ],
    )
    assert [row(joined, f"d{i}")["clicks"] for i in range(4)] == [1, 0, 1, 0]
    summary = joined.summary
    assert (summary.joined, summary.after_window, summary.before_window) == (2, 1, 1)
    assert row(joined, "d2")["first_outcome_at"] == at(minutes=-5)


def test_a_shorter_window_and_no_skew_tolerance(tmp_path: Path) -> None:
    joined = run(
        tmp_path,
        [[decision("d0"), decision("d1")]],
        [[outcome("d0", occurred_at=at(minutes=9)), outcome("d1", occurred_at=at(seconds=-1))]],
        window=timedelta(minutes=10),
        skew=timedelta(0),
    )
    assert row(joined, "d0")["clicks"] == 1
    assert row(joined, "d1")["clicks"] == 0
    assert joined.summary.before_window == 1


def test_outcomes_from_any_file_join_decisions_from_any_file(tmp_path: Path) -> None:
    """Replica B's outcome file names replica A's decision, and was received before it was decided."""
    decisions = [[decision("a1", time=at(minutes=1))], [decision("b1")]]
    outcomes = [[outcome("b1", received_at=at(seconds=5))], [outcome("a1", received_at=at(seconds=50))]]
    joined = run(tmp_path, decisions, outcomes)
    assert row(joined, "a1")["clicks"] == 1  # received 10 s before its decision: within the skew tolerance
    assert row(joined, "b1")["clicks"] == 1
    reversed_order = run(tmp_path / "again", decisions[::-1], outcomes[::-1])
    by_id = joined.decisions.set_index("decision_id").sort_index()
    assert by_id.equals(reversed_order.decisions.set_index("decision_id").sort_index())


def test_a_key_repeated_across_files_counts_once_and_revenue_is_summed(tmp_path: Path) -> None:
    first = outcome("d0", "conversion", value=10.0, occurred_at=at(minutes=2), key="order-1")
    joined = run(
        tmp_path,
        [[decision("d0")]],
        [
            [first, outcome("d0", "conversion", value=15.5, occurred_at=at(minutes=3), key="order-2")],
            [{**first, "received_at": at(minutes=4).isoformat()}],  # the other replica got the retry
        ],
    )
    joined_row = row(joined, "d0")
    assert joined_row["conversions"] == 2
    assert joined_row["revenue"] == pytest.approx(25.5)
    assert bool(joined_row["converted"])
    assert joined.summary.duplicate_outcomes == 1
    assert joined.summary.outcomes_read == 3


def test_outcomes_for_unknown_decisions_are_counted_and_listed(tmp_path: Path) -> None:
    joined = run(
        tmp_path,
        [[decision("d0")]],
        [[outcome("ghost-2", "click"), outcome("ghost-1", "conversion", value=3.0), outcome("d0")]],
    )
    summary = joined.summary
    assert summary.unknown_decision == 2
    assert summary.unknown_by_type == {"click": 1, "conversion": 1}
    assert summary.unknown_decision_ids == ["ghost-1", "ghost-2"]
    assert summary.joined == 1
    assert "2 for unknown decisions (click 1, conversion 1)" in summary.lines()[1]
    written = summary.write(tmp_path / "summary.json").read_text(encoding="utf-8")
    assert '"unknown_decision": 2' in written


def test_the_default_reward_goes_only_to_decisions_without_any_outcome(tmp_path: Path) -> None:
    joined = run(
        tmp_path,
        [[decision("silent"), decision("seen"), decision("clicked")]],
        [[outcome("seen", "impression", content_id=""), outcome("clicked")]],
        default_reward=0.25,
    )
    assert row(joined, "silent")["reward"] == 0.25
    assert pd.isna(row(joined, "silent")["first_outcome_at"])
    assert row(joined, "seen")["reward"] == 0.0  # an outcome arrived: it was shown and not clicked
    assert row(joined, "clicked")["reward"] == 1.0
    nan_default = run(tmp_path / "nan", [[decision("silent")]], [[]], default_reward=math.nan)
    assert math.isnan(row(nan_default, "silent")["reward"])


@pytest.mark.parametrize(("reward", "expected"), [("click", 1.0), ("conversion", 1.0), ("revenue", 42.0)])
def test_the_primary_reward(tmp_path: Path, reward: str, expected: float) -> None:
    joined = run(
        tmp_path,
        [[decision("d0"), decision("d1")]],
        [[outcome("d0"), outcome("d0", "conversion", value=42.0), outcome("d1", "impression", content_id="")]],
        reward=reward,
    )
    assert row(joined, "d0")["reward"] == expected
    assert row(joined, "d1")["reward"] == 0.0


def test_the_item_view_has_one_row_per_shown_item_with_its_own_outcomes(tmp_path: Path) -> None:
    joined = run(
        tmp_path,
        [[decision("d0", items=("c1", "c2", "c3"), probabilities=(0.5, 0.3, 0.2)), decision("d1", items=())]],
        [
            [
                outcome("d0", "impression", content_id="", occurred_at=at(seconds=1)),  # the whole answer
                outcome("d0", "click", content_id="c2", occurred_at=at(seconds=20)),
                outcome("d0", "click", content_id="c2", occurred_at=at(seconds=10), key="second-click"),
                outcome("d0", "conversion", content_id="c2", value=20.0, occurred_at=at(minutes=5)),
                outcome("d0", "click", content_id="c9", occurred_at=at(seconds=30)),  # not shown
            ]
        ],
    )
    items = joined.items
    assert items["decision_id"].tolist() == ["d0"] * 3
    assert items["content_id"].tolist() == ["c1", "c2", "c3"]
    assert items["rank"].tolist() == [1, 2, 3]
    assert items["probability"].tolist() == [0.5, 0.3, 0.2]
    assert items["impressions"].tolist() == [1, 1, 1]
    assert items["clicks"].tolist() == [0, 2, 0]
    assert items["clicked"].tolist() == [False, True, False]
    assert items["conversions"].tolist() == [0, 1, 0]
    assert items["revenue"].tolist() == [0.0, 20.0, 0.0]
    assert items["first_click_at"].iloc[1] == at(seconds=10)
    assert items["first_conversion_at"].iloc[1] == at(minutes=5)
    assert items["first_click_at"].isna().tolist() == [True, False, True]
    d0 = row(joined, "d0")
    assert (d0["content_id"], d0["item_probability"], d0["items_shown"]) == ("c1", 0.5, 3)
    assert (d0["clicks"], d0["impressions"], d0["conversions"]) == (3, 1, 1)  # the decision counts every click
    assert joined.summary.not_shown == 1
    d1 = row(joined, "d1")
    assert (d1["content_id"], d1["item_probability"], d1["items_shown"]) == ("", 1.0, 0)


def test_a_decision_logged_twice_is_kept_once_with_its_items(tmp_path: Path) -> None:
    twice = decision("d0", items=("c1", "c2"))
    joined = run(tmp_path, [[twice, decision("d1")], [twice]], [[outcome("d0", content_id="c2")]])
    assert joined.decisions["decision_id"].tolist() == ["d0", "d1"]
    assert joined.items["decision_id"].tolist() == ["d0", "d0", "d1"]
    assert joined.items["clicks"].tolist() == [0, 1, 0]
    assert joined.summary.duplicate_decisions == 1


def test_outcome_time_chooses_the_client_or_the_server_clock(tmp_path: Path) -> None:
    """A client clock an hour behind: by its own time the click precedes the decision."""
    late_clock = outcome("d0", occurred_at=at(minutes=-60), received_at=at(minutes=1))
    occurred = run(tmp_path, [[decision("d0")]], [[late_clock]])
    assert row(occurred, "d0")["clicks"] == 0
    assert occurred.summary.before_window == 1
    received = run(tmp_path / "received", [[decision("d0")]], [[late_clock]], outcome_time="received")
    assert row(received, "d0")["clicks"] == 1


def test_decisions_whose_window_outlasts_the_outcome_logs_are_counted(tmp_path: Path) -> None:
    joined = run(
        tmp_path,
        [[decision("old", time=at(minutes=-60)), decision("new")]],
        [[outcome("new", received_at=at(minutes=10))]],
    )
    assert joined.summary.open_windows == 1


def test_experiment_segment_and_consent_fields(tmp_path: Path) -> None:
    experiment = {"id": "hero", "version": 2, "arm": "B", "probability": 0.25, "levels": {"size": "L", "color": "red"}}
    joined = run(
        tmp_path,
        [
            [
                decision("x", source="EXPERIMENT", tier="experiments", segment="loyal", experiment=experiment),
                decision("anonymous", consent=False),
            ]
        ],
        [[]],
    )
    x = row(joined, "x")
    assert (x["source"], x["tier"], x["segment"]) == ("EXPERIMENT", "experiments", "loyal")
    assert (x["experiment_id"], x["experiment_version"], x["arm"], x["arm_probability"]) == ("hero", "2", "B", 0.25)
    assert x["levels"] == '{"color": "red", "size": "L"}'
    assert (x["user_key"], bool(x["consent"])) == ("k-user", True)
    anonymous = row(joined, "anonymous")
    assert (anonymous["user_key"], bool(anonymous["consent"]), anonymous["arm_probability"]) == ("", False, 1.0)
    assert (anonymous["experiment_id"], anonymous["levels"], anonymous["segment"]) == ("", "", "")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"window": timedelta(0)}, "the attribution window must be positive"),
        ({"skew": timedelta(minutes=-1)}, "the clock-skew tolerance must be 0 or more"),
        ({"reward": "likes"}, "unknown reward 'likes': use click, conversion or revenue"),
        ({"outcome_time": "client"}, "unknown outcome time 'client': use occurred or received"),
    ],
)
def test_bad_options_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        JoinOptions(**options)  # type: ignore[arg-type]


def test_round_trip_through_the_services_own_writers(tmp_path: Path) -> None:
    """A format change in the decision or outcome log breaks this test."""
    decided = T0
    request = Request(
        user_id="u-42",
        placement="product_page",
        request_id="r-1",
        context=Context(region="JP", device="tablet", channel="app"),
        consent=True,
    )
    shown = Decision(
        decision_id="d-1",
        request_id="r-1",
        source=Source.MODEL,
        items=(Item("shoes", 0.7, 1, probability=0.6), Item("bags", 0.2, 2, probability=0.3)),
        provenance=Provenance(ruleset_version="2026-11-01", model_name="nbc", model_version="7", tier="model"),
        decided_at=decided,
    )
    decisions = DecisionLog(tmp_path / "decisions.jsonl", KEYS, flush_interval=60.0)
    decisions.start()
    decisions.record(shown, RequestContext(request, decided, None, 2, no_sources()))
    anonymous = request._replace(user_id="u-7", consent=False)
    decisions.record(shown._replace(decision_id="d-2"), RequestContext(anonymous, decided, None, 2, no_sources()))
    assert decisions.close()
    outcomes = OutcomeLog(tmp_path / "outcomes.jsonl", flush_interval=60.0)
    outcomes.start()
    click = Outcome("d-1", "click", "bags", 0.0, at(seconds=30), "d-1|click|bags", user_id="u-42", consent=True)
    outcomes.append((click, at(seconds=31)))
    outcomes.append((Outcome("d-1", "conversion", "bags", 12.5, None, "order-9"), at(minutes=3)))
    assert outcomes.close()
    joined = join_files([decisions.path], [outcomes.path], JoinOptions())
    d1 = row(joined, "d-1")
    assert d1["user_key"] == KEYS("u-42")
    assert d1["decided_at"] == decided
    assert (d1["placement"], d1["region"], d1["device"], d1["channel"]) == ("product_page", "JP", "tablet", "app")
    assert (d1["source"], d1["tier"], d1["model_name"], d1["model_version"]) == ("MODEL", "model", "nbc", "7")
    assert (d1["ruleset_version"], d1["content_id"], d1["item_probability"]) == ("2026-11-01", "shoes", 0.6)
    assert (d1["eligible"], d1["clicks"], d1["conversions"], d1["revenue"]) == (-1, 1, 1, 12.5)
    assert d1["first_outcome_at"] == at(seconds=30)
    assert row(joined, "d-2")["user_key"] == ""
    bags = joined.items[(joined.items["decision_id"] == "d-1") & (joined.items["content_id"] == "bags")].iloc[0]
    assert (bags["rank"], bags["probability"], bags["clicks"], bags["revenue"]) == (2, 0.3, 1, 12.5)
    assert "u-42" not in joined.decisions.to_string() + joined.items.to_string()


def test_outcomes_without_any_decision_or_any_shown_item(tmp_path: Path) -> None:
    nothing_decided = run(tmp_path, [[]], [[outcome("d0"), outcome("d1", "conversion")]])
    assert nothing_decided.decisions.empty
    assert nothing_decided.summary.unknown_decision == 2
    nothing_shown = run(tmp_path / "empty", [[decision("d0", items=())]], [[outcome("d0", content_id="c1")]])
    assert row(nothing_shown, "d0")["clicks"] == 1
    assert nothing_shown.items.empty
    assert nothing_shown.summary.not_shown == 1


def test_an_experiment_decision_through_the_services_own_writer(tmp_path: Path) -> None:
    request = Request(user_id="u-1", placement="home_banner", consent=True)
    provenance = Provenance(
        tier="experiments",
        details={"headline": "bold", "image": "large"},
        experiment_id="hero",
        experiment_version="3",
        experiment_hash="abc",
        arm="bold-large",
        arm_probability=0.25,
    )
    shown = Decision("d-x", "r-x", Source.EXPERIMENT, (Item("hero_b", 1.0, 1, probability=0.25),), provenance, T0)
    log = DecisionLog(tmp_path / "decisions.jsonl", KEYS, flush_interval=60.0)
    log.start()
    log.record(shown, RequestContext(request, T0, None, 1, no_sources()))
    assert log.close()
    x = row(join_files([log.path], [], JoinOptions()), "d-x")
    assert (x["source"], x["tier"], x["experiment_id"], x["experiment_version"]) == (
        "EXPERIMENT",
        "experiments",
        "hero",
        "3",
    )
    assert (x["arm"], x["arm_probability"], x["item_probability"]) == ("bold-large", 0.25, 0.25)
    assert x["levels"] == '{"headline": "bold", "image": "large"}'
