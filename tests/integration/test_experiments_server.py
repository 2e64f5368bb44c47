"""Experiments through the real server: arms in responses and the decision log; bandits shared by processes."""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import grpc

from decision.feedback.jsonlines import read_json_lines
from decision.v1 import decision_service_pb2 as pb
from decision.v1 import decision_service_pb2_grpc as pb_grpc
from tests.integration.serving import start_server

REPO_RULES = Path(__file__).resolve().parents[2] / "rules"

FIXED = """version: "exp-1"
experiments:
  - id: hero
    placements: [home_banner]
    metric: click
    arms:
      - {id: control, control: true}
      - {id: warm, content: [hero_warm], parameters: {tone: warm}}
"""

THOMPSON = """version: "exp-2"
experiments:
  - id: hero
    placements: [home_banner]
    metric: click
    allocation: {mode: thompson, warmup: 20, per_segment: false}
    arms:
      - {id: plain, content: [hero_plain]}
      - {id: warm, content: [hero_warm]}
"""


def home(user: str) -> pb.DecideRequest:
    return pb.DecideRequest(user_id=user, placement="home_banner", personalization_consent=pb.CONSENT_GRANTED)


def serve(tmp_path: Path, text: str, *args: str, **env: str) -> tuple[object, int]:
    folder = tmp_path / "experiments"
    folder.mkdir()
    (folder / "hero.yaml").write_text(text)
    environment = {
        "DECISION_RULES_PATH": str(REPO_RULES),
        "DECISION_EXPERIMENTS_PATH": str(folder),
        "DECISION_DECISION_LOG_PATH": str(tmp_path / "decisions.jsonl"),
        **env,
    }
    return start_server(tmp_path, *args, env=environment)


def test_arms_answer_and_the_log_records_the_experiment(tmp_path: Path) -> None:
    process, port = serve(tmp_path, FIXED)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.DecisionServiceStub(channel)
            responses = {f"user-{i}": stub.Decide(home(f"user-{i}"), timeout=5) for i in range(200)}
            again = stub.Decide(home("user-7"), timeout=5)
    finally:
        process.send_signal(signal.SIGTERM)  # type: ignore[attr-defined]
        process.wait(timeout=15)  # type: ignore[attr-defined]
    arms = Counter(r.provenance.arm for r in responses.values())
    assert set(arms) == {"control", "warm"}
    assert 60 < arms["warm"] < 140
    warm = next(r for r in responses.values() if r.provenance.arm == "warm")
    assert warm.source == pb.DECISION_SOURCE_EXPERIMENT
    assert [(i.content_id, i.probability, dict(i.parameters)) for i in warm.items] == [
        ("hero_warm", 0.5, {"tone": "warm"})
    ]
    control = next(r for r in responses.values() if r.provenance.arm == "control")
    assert control.source == pb.DECISION_SOURCE_DEFAULT  # no model here: the default answered for control
    assert list(control.provenance.fallback_reasons)[1] == pb.FALLBACK_REASON_EXPERIMENT_CONTROL
    assert again.provenance.arm == responses["user-7"].provenance.arm  # sticky
    logged = {r["decision_id"]: r for r in read_json_lines(tmp_path / "decisions.jsonl")}
    record = logged[warm.decision_id]
    assert record["experiment"] == {
        "id": "hero",
        "version": "exp-1",
        "hash": warm.provenance.experiment_hash,
        "arm": "warm",
        "probability": 0.5,
        "levels": {},
    }
    assert logged[control.decision_id]["experiment"]["arm"] == "control"  # type: ignore[index]


def test_two_processes_share_one_bandit_through_redis(tmp_path: Path, redis_url: str) -> None:
    process, port = serve(
        tmp_path,
        THOMPSON,
        "--processes",
        "2",
        "--grace-seconds",
        "1",
        DECISION_SHARED_STATE_URL=redis_url,
        DECISION_BANDIT_REFRESH_SECONDS="0.2",
        DECISION_DECISION_LOG_PATH="",
    )
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.DecisionServiceStub(channel)
            for i in range(400):  # warm clicks 30 %, plain never: reported as a client would
                response = stub.Decide(home(f"user-{i}"), timeout=5)
                if response.provenance.arm == "warm" and i % 10 < 3:
                    outcome = pb.ReportOutcomeRequest(
                        decision_id=response.decision_id, outcome_type="click", content_id="hero_warm"
                    )
                    stub.ReportOutcome(outcome, timeout=5)
            deadline = time.monotonic() + 5
            seen: set[float] = set()
            while time.monotonic() < deadline:
                # Fresh connections land on either process (SO_REUSEPORT): both must agree.
                seen = set()
                for _ in range(6):
                    with grpc.insecure_channel(
                        f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)]
                    ) as fresh:
                        answer = pb_grpc.DecisionServiceStub(fresh).Decide(home("probe"), timeout=5)
                        if answer.provenance.arm == "warm":
                            seen.add(round(answer.provenance.arm_probability, 6))
                if len(seen) == 1 and next(iter(seen)) > 0.9:
                    break
                time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)  # type: ignore[attr-defined]
        process.wait(timeout=20)  # type: ignore[attr-defined]
    assert len(seen) == 1
    assert next(iter(seen)) > 0.9
