"""Every Prometheus metric the service exports, defined once.

Labels stay low-cardinality: source, placement (configured, bounded), reason,
result. Never a user id, content id or free text.
"""

from __future__ import annotations

from wsgiref.simple_server import WSGIServer

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics, start_http_server

# The *_created series double every counter's output and nobody alerts on them.
disable_created_metrics()  # type: ignore[no-untyped-call]

DECISIONS = Counter("decision_decisions_total", "Decisions answered, by deciding tier.", ["source", "placement"])
FALLBACKS = Counter("decision_fallbacks_total", "Times a tier did not decide, by reason.", ["reason"])
INVALID_REQUESTS = Counter("decision_invalid_requests_total", "Requests refused with INVALID_ARGUMENT.", ["field"])
LATENCY = Histogram(
    "decision_rpc_latency_seconds",
    "Server-side time per RPC.",
    ["method"],
    buckets=(0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
RULESET_INFO = Gauge("decision_ruleset_active_info", "1 for the active ruleset version.", ["version", "hash"])
RULES_RELOADS = Counter("decision_rules_reloads_total", "Ruleset activation attempts, by result.", ["result"])
EXPERIMENTS_INFO = Gauge(
    "decision_experiments_active_info", "1 for the active experiment-set version.", ["version", "hash"]
)
EXPERIMENTS_RELOADS = Counter(
    "decision_experiments_reloads_total", "Experiment-set activation attempts, by result.", ["result"]
)
MODEL_INFO = Gauge(
    "decision_model_active_info",
    "1 for the active model version and what scores it (native: compiled; lightgbm: its fast path).",
    ["name", "version", "scorer"],
)
MODEL_RELOADS = Counter("decision_model_reloads_total", "Model swap attempts, by result.", ["result"])
REGISTRY_POLL_AGE = Gauge(
    "decision_model_registry_last_poll_timestamp_seconds",
    "Unix time of the last successful registry poll.",
)
FEEDBACK_DROPPED = Counter(
    "decision_feedback_dropped_total",
    "Records not written to a feedback log (decisions, outcomes), by log and reason.",
    ["log", "reason"],
)
FEEDBACK_WRITE_FAILURES = Counter(
    "decision_feedback_write_failures_total",
    "Failed attempts to open or write a feedback log file (unwritable path, full disk), by log.",
    ["log"],
)
OUTCOMES = Counter(
    "decision_outcomes_total",
    "Outcomes reported, by type and result (accepted, duplicate: counted once).",
    ["type", "result"],
)
GC_PAUSES = Histogram(
    "decision_gc_pause_seconds",
    "Time each garbage collection held the GIL (every request waits), by generation.",
    ["generation"],
    buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0),
)
PROFILE_UPDATES = Counter("decision_profile_updates_total", "Events folded into live profiles.")
PROFILE_EVICTIONS = Counter(
    "decision_profile_evictions_total", "Live profiles dropped from memory, by reason (size, ttl).", ["reason"]
)
STATE_FAILURES = Counter(
    "decision_shared_state_failures_total",
    "Failed reads/writes of shared state (bandit statistics, live profiles); the service keeps its last "
    "known values, by part.",
    ["part"],
)
TIER_ERRORS = Counter("decision_tier_errors_total", "Unexpected failures inside a tier, by tier.", ["tier"])


def serve_metrics(port: int, host: str = "0.0.0.0") -> WSGIServer | None:
    """Expose /metrics on `port` in a daemon thread (0 disables it); returns the server."""
    if not port:
        return None
    server, _thread = start_http_server(port, addr=host)
    return server
