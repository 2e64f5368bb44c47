"""bench/profile.py's summary of py-spy stacks (the sampling itself needs ptrace and a loaded server)."""

from __future__ import annotations

from bench.profile import summarize

STACKS = [
    "Thread._bootstrap (threading.py:1002);_serve (grpc/_server.py:1314) 50",
    "Thread._bootstrap (threading.py:1002);DecisionServicer.Decide (decision/api/servicer.py:48);"
    "Decider.decide (decision/pipeline/decider.py:63);Engine.fire (decision/tiers/rules/engine.py:125) 30",
    "Thread._bootstrap (threading.py:1002);DecisionServicer.Decide (decision/api/servicer.py:48);"
    "Decider.decide (decision/pipeline/decider.py:70);"
    "FastPredictor.predict (decision/tiers/model/fastpredict.py:75) 20",
    "not a stack line",
]


def test_summary_splits_handler_from_machinery_and_merges_lines_of_a_function() -> None:
    summary = summarize(STACKS)
    assert (summary.total, summary.in_handler) == (100, 50)
    inclusive = dict(summary.inclusive)
    assert inclusive["DecisionServicer.Decide (decision/api/servicer.py)"] == 50
    assert inclusive["Decider.decide (decision/pipeline/decider.py)"] == 50  # two lines, one function
    assert "_serve (grpc/_server.py)" not in inclusive  # outside the handler
    assert summary.self_time[0] == ("Engine.fire (decision/tiers/rules/engine.py:125)", 30)
    text = summary.text(top=5)
    assert "50.0% inside the Decide handler" in text
    assert " 60.0%  Engine.fire (decision/tiers/rules/engine.py:125)" in text
