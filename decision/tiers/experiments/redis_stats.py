"""Bandit statistics in Redis, so every serving process and replica allocates from the same counts.

Only the bandit state's refresh thread calls this (never a request), with short socket
timeouts: an outage fails a refresh, which the state counts while decisions go on with the
last published probabilities.

Layout: one hash per experiment, `<prefix>:bandit:<experiment>`, with fields
`<segment>|<arm>|n` (exposures), `|s` (successes), `|r` (reward sum) and `|q` (sum of squared
rewards), incremented atomically by every process; and one key per recent adaptive decision,
`<prefix>:bandit:decision:<decision id>` = `<experiment>|<segment>|<arm>`, expiring after the
attribution window, so an outcome reported to another replica still finds its arm.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import redis

from decision.settings import Settings
from decision.tiers.experiments.allocation import ArmStats
from decision.tiers.experiments.bandit import Delta, Exposure, StatsKey

SEPARATOR = "|"


class RedisStats:
    """A StatsBackend on a Redis server."""

    def __init__(self, client: redis.Redis, prefix: str = "decision", decision_ttl_seconds: int = 1800) -> None:
        self._client = client
        self._prefix = f"{prefix}:bandit"
        self._ttl = decision_ttl_seconds

    @classmethod
    def connect(cls, settings: Settings) -> RedisStats:
        """A client for `settings.shared_state_url` (connects lazily: a down server fails refreshes, not the start)."""
        assert settings.shared_state_url is not None
        client = redis.Redis.from_url(
            settings.shared_state_url, socket_timeout=0.25, socket_connect_timeout=0.25, decode_responses=True
        )
        return cls(client, settings.shared_state_prefix)

    def add(self, deltas: Mapping[StatsKey, Delta], exposures: Mapping[str, Exposure]) -> None:
        if not deltas and not exposures:
            return
        pipe = self._client.pipeline(transaction=False)
        for (experiment, segment, arm), delta in deltas.items():
            key, field = f"{self._prefix}:{experiment}", f"{segment}{SEPARATOR}{arm}{SEPARATOR}"
            if delta.exposures:
                pipe.hincrby(key, field + "n", delta.exposures)
            if delta.successes:
                pipe.hincrby(key, field + "s", delta.successes)
            if delta.reward:
                pipe.hincrbyfloat(key, field + "r", delta.reward)
                pipe.hincrbyfloat(key, field + "q", delta.reward_sq)
        for decision_id, exposure in exposures.items():
            value = SEPARATOR.join((exposure.experiment, exposure.segment, str(exposure.arm)))
            pipe.set(f"{self._prefix}:decision:{decision_id}", value, ex=self._ttl)
        pipe.execute()

    def exposures_of(self, decision_ids: Sequence[str]) -> dict[str, Exposure]:
        if not decision_ids:
            return {}
        values: list[Any] = self._client.mget([f"{self._prefix}:decision:{d}" for d in decision_ids])
        found = {}
        for decision_id, value in zip(decision_ids, values, strict=True):
            if isinstance(value, str):
                experiment, segment, arm = value.rsplit(SEPARATOR, 2)
                found[decision_id] = Exposure(experiment, segment, int(arm))
        return found

    def stats(self, experiment: str) -> dict[tuple[str, int], ArmStats]:
        raw: dict[str, str] = self._client.hgetall(f"{self._prefix}:{experiment}")  # type: ignore[assignment]
        numbers: dict[tuple[str, int], dict[str, float]] = {}
        for field, value in raw.items():
            segment, arm, kind = field.rsplit(SEPARATOR, 2)
            numbers.setdefault((segment, int(arm)), {})[kind] = float(value)
        return {
            key: ArmStats(int(n.get("n", 0)), int(n.get("s", 0)), n.get("r", 0.0), n.get("q", 0.0))
            for key, n in numbers.items()
        }
