"""The decision log: one JSON line per decision, with what analysis and learning need.

Each record holds the placement and context, consent, the deciding tier and its provenance,
every shown item with its rank and the probability with which it was chosen (1.0 for a
deterministic tier), the number of eligible candidates when a tier ranked the catalog, the
feature-set version and the profile snapshot time when a model scored, and the user only as
a keyed hash (`user_key`) and only with consent. The writing discipline (queue, writer thread,
drops counted, nothing ever delays a decision) is `jsonlines.JsonLinesLog`'s.

A decision with a non-finite item score (NaN, inf) is dropped and counted, not written: JSON
has no such numbers, and writing `null` (what orjson does) would silently change the record.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import orjson

from decision.domain import Decision
from decision.feedback.jsonlines import JsonLinesLog, read_json_lines
from decision.pipeline.context import RequestContext
from decision.privacy import Pseudonymizer

_OPTIONAL = ("rule_id", "ruleset_version", "ruleset_hash", "model_name", "model_version")


class DecisionLog(JsonLinesLog[tuple[Decision, RequestContext]]):
    """The decision log; `record` is the decider's sink."""

    def __init__(
        self,
        path: Path,
        pseudonymize: Pseudonymizer,
        max_queue: int = 10000,
        flush_interval: float = 0.1,
        wake_at: int = 64,
    ) -> None:
        self._pseudonymize = pseudonymize
        super().__init__(path, self._encode, "decisions", max_queue, flush_interval, wake_at)

    def record(self, decision: Decision, context: RequestContext) -> None:
        """Queue one decision (see JsonLinesLog.append: never blocks, drops are counted)."""
        self.append((decision, context))

    def _encode(self, item: tuple[Decision, RequestContext]) -> bytes:
        return encode_record(*item, self._pseudonymize)


def encode_record(decision: Decision, context: RequestContext, pseudonymize: Pseudonymizer) -> bytes:
    """One log line (newline included); ValueError for a non-finite score, which JSON cannot carry."""
    for item in decision.items:
        if not math.isfinite(item.score):
            raise ValueError("non-finite item score")
    return orjson.dumps(record_for(decision, context, pseudonymize), option=orjson.OPT_APPEND_NEWLINE)


def record_for(decision: Decision, context: RequestContext, pseudonymize: Pseudonymizer) -> dict[str, object]:
    """The log record of one decision, as `encode_record` writes it.

    `time` stays a datetime: orjson writes it exactly as `isoformat()` would, several times
    faster. Empty provenance fields are left out.
    """
    provenance = decision.provenance
    request = context.request
    request_context = request.context
    record: dict[str, object] = {
        "decision_id": decision.decision_id,
        "request_id": decision.request_id,
        "time": decision.decided_at,
        "placement": request.placement,
        "context": {
            "region": request_context.region,
            "device": request_context.device,
            "channel": request_context.channel,
        },
        "consent": request.consent,
        "source": decision.source.name,
        "tier": provenance.tier,
        "items": [
            {"content_id": item.content_id, "score": item.score, "rank": item.rank, "probability": item.probability}
            for item in decision.items
        ],
        "fallback_reasons": [reason.name for reason in provenance.fallback_reasons],
    }
    if request.consent:
        record["user_key"] = pseudonymize(request.user_id)
    for key in _OPTIONAL:
        value = getattr(provenance, key)
        if value:
            record[key] = value
    if provenance.details:
        record["details"] = dict(provenance.details)
    if provenance.experiment_id:
        record["experiment"] = {
            "id": provenance.experiment_id,
            "version": provenance.experiment_version,
            "hash": provenance.experiment_hash,
            "arm": provenance.arm,
            "probability": provenance.arm_probability,
            "levels": dict(provenance.details),  # a multivariate arm's factor levels ({} otherwise)
        }
    eligible = context.eligible_if_computed
    if eligible is not None:
        record["eligible"] = len(eligible)
    if context.features:
        record["feature_set_version"] = context.features
    profile = context.profile_if_looked_up
    if profile is not None:
        record["profile_as_of"] = profile.as_of
    if request.consent:  # the segment needs the profile: none without consent
        segment = context.segment  # computed here, on the writer thread, if no tier asked
        if segment is not None:
            record["segment"] = segment.name
    return record


def read_decision_log(path: Path) -> Iterator[dict[str, object]]:
    """Records in file order (see `read_json_lines` for torn and bad lines)."""
    return read_json_lines(path)
