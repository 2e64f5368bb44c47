"""Adaptive allocation: exposures and outcomes move the probabilities, shared through Redis, robust to its outage."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import redis
from prometheus_client import REGISTRY

from decision.domain import Decision, Outcome, Provenance, Source
from decision.pipeline.context import RequestContext
from decision.tiers.experiments.bandit import BanditState, LocalStats
from decision.tiers.experiments.compiled import CompiledExperiment
from decision.tiers.experiments.compiler import compile_path
from decision.tiers.experiments.redis_stats import RedisStats
from tests.decision.tiers.experiments.conftest import context, write
from tests.redis_server import redis_server

THOMPSON = """version: "v1"
experiments:
  - id: hero
    placements: [home_banner]
    metric: click
    allocation: {mode: thompson, floor: 0.02, warmup: 50, per_segment: true}
    arms:
      - {id: plain, content: [hero_plain]}
      - {id: warm, content: [hero_warm]}
"""
NOW = datetime(2026, 12, 10, tzinfo=UTC)


def experiment(tmp_path: Path) -> CompiledExperiment:
    write(tmp_path, THOMPSON)
    (compiled,) = compile_path(tmp_path).experiments
    return compiled


def decide(state: BanditState, decision_id: str, arm: str, ctx: RequestContext) -> None:
    provenance = Provenance(experiment_id="hero", arm=arm, arm_probability=0.5)
    state.on_decision(Decision(decision_id, "", Source.EXPERIMENT, (), provenance, NOW), ctx)


def click(state: BanditState, decision_id: str) -> None:
    state.on_outcome(Outcome(decision_id, "click", "hero", 0.0, None, f"{decision_id}|click"), NOW)


def play(decide_on: BanditState, report_to: BanditState, rates: dict[str, float], rounds: int, prefix: str) -> None:
    """`rounds` decisions per arm on one state; the clicks (every 1/rate-th) reported to another."""
    ctx = context(segment="loyal")
    assert ctx.segment is not None  # the tier asked for it: the state reads it back
    for arm, rate in rates.items():
        for i in range(rounds):
            decision_id = f"{prefix}-{arm}-{i}"
            decide(decide_on, decision_id, arm, ctx)
            if (i + 1) * rate >= int(i * rate) + 1:
                click(report_to, decision_id)


def test_outcomes_shift_the_probabilities_towards_the_better_arm(tmp_path: Path) -> None:
    hero = experiment(tmp_path)
    state = BanditState(LocalStats())
    state.use([hero])
    assert state.probabilities(hero, "loyal").probabilities == (0.5, 0.5)  # declared weights until a refresh
    play(state, state, {"plain": 0.02, "warm": 0.20}, 300, "d")
    state.refresh()
    plain, warm = state.probabilities(hero, "loyal").probabilities
    assert warm > 0.9
    assert plain >= 0.02  # the floor
    assert state.probabilities(hero, "other-segment").probabilities == (0.5, 0.5)


def test_a_click_counts_once_per_decision(tmp_path: Path) -> None:
    hero = experiment(tmp_path)
    backend = LocalStats()
    state = BanditState(backend)
    state.use([hero])
    ctx = context(segment="loyal")
    assert ctx.segment is not None
    decide(state, "d1", "warm", ctx)
    click(state, "d1")
    click(state, "d1")
    state.refresh()
    assert backend.stats("hero")[("loyal", 1)].successes == 1


def test_two_replicas_on_redis_publish_the_same_probabilities_within_a_refresh(tmp_path: Path, redis_url: str) -> None:
    hero = experiment(tmp_path)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    replicas = [BanditState(RedisStats(client, prefix=f"t{i // 2}"), refresh_seconds=0.1) for i in (0, 1)]
    for state in replicas:
        state.use([hero])
        state.start()
    try:
        play(replicas[0], replicas[1], {"plain": 0.02, "warm": 0.25}, 300, "r")  # decided on A, clicked on B
        deadline = time.monotonic() + 1.0 + 0.5  # the target is one second (plus a refresh of slack)
        vectors: list[tuple[float, ...]] = []
        while time.monotonic() < deadline:
            vectors = [s.probabilities(hero, "loyal").probabilities for s in replicas]
            if vectors[0] == vectors[1] and vectors[0][1] > 0.9:
                break
            time.sleep(0.05)
        assert vectors[0] == vectors[1]
        assert vectors[0][1] > 0.9
    finally:
        for state in replicas:
            state.stop()


def test_a_redis_outage_keeps_the_last_probabilities_and_counts_the_failures(tmp_path: Path) -> None:
    hero = experiment(tmp_path)
    with redis_server(tmp_path) as (_, port):
        client = redis.Redis(port=port, decode_responses=True, socket_timeout=0.2, socket_connect_timeout=0.2)
        state = BanditState(RedisStats(client))
        state.use([hero])
        play(state, state, {"plain": 0.02, "warm": 0.25}, 300, "o")
        state.refresh()
        before = state.probabilities(hero, "loyal")
        assert before.probabilities[1] > 0.9
    failures = REGISTRY.get_sample_value("decision_shared_state_failures_total", {"part": "bandit"}) or 0.0
    decide(state, "late", "warm", context(segment="loyal"))  # recording never touches Redis
    state.refresh()  # the server is gone
    assert REGISTRY.get_sample_value("decision_shared_state_failures_total", {"part": "bandit"}) == failures + 1
    assert state.probabilities(hero, "loyal") == before
