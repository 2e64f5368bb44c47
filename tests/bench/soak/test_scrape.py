"""Reading what the server serves from its Prometheus text."""

from __future__ import annotations

from bench.soak.scrape import ServerState, parse

EXPOSITION = """\
# HELP decision_rules_reloads_total Ruleset activation attempts, by result.
# TYPE decision_rules_reloads_total counter
decision_rules_reloads_total{result="success"} 31.0
decision_rules_reloads_total{result="failure"} 2.0
# TYPE decision_ruleset_active_info gauge
decision_ruleset_active_info{version="2026.11.25-1+soak.b",hash="94cb90c8"} 1.0
# TYPE decision_model_active_info gauge
decision_model_active_info{name="next_best_content",version="2",scorer="lightgbm"} 1.0
decision_model_reloads_total{result="success"} 7.0
decision_model_reloads_total{result="refused"} 1.0
decision_fallbacks_total{reason="NO_RULE_MATCHED"} 40.0
decision_fallbacks_total{reason="DEADLINE"} 3.0
decision_rpc_latency_seconds_bucket{le="0.005",method="Decide"} 12.0
"""


def test_parse_reads_the_active_versions_and_the_counters() -> None:
    assert parse(EXPOSITION) == ServerState(
        rules_activated=31,
        rules_refused=2,
        ruleset_version="2026.11.25-1+soak.b",
        model_version="2",
        model_scorer="lightgbm",
        models_loaded=7,
        fallbacks={"NO_RULE_MATCHED": 40, "DEADLINE": 3},
    )


def test_a_server_without_rules_or_model_yet_reads_as_nothing() -> None:
    assert parse("# nothing yet\n") == ServerState(0, 0, None, None, None, 0)


def test_a_removed_version_at_zero_is_not_active() -> None:
    text = 'decision_model_active_info{name="m",version="1",scorer="native"} 0.0\n'
    assert parse(text).model_version is None
