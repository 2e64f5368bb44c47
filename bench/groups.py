"""The contenders: each group starts one server and names the cases measured against it."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from bench import peers
from bench.decide_cases import (
    SERVICE,
    await_native_scorer,
    body_file,
    decide_cases,
    decide_check,
    load_request,
    metrics_ports,
)
from bench.load import GRPC_HEADERS, JSON_HEADERS, Target
from bench.measure import SPREAD_GRPC_SHAPE, Case
from bench.model_source import ModelSource
from bench.servers import Server, free_port, http_ready, running

REPO = Path(__file__).resolve().parent.parent
CEILING_LABEL = "bare gRPC ceiling (trivial Decide)"


@dataclass(frozen=True)
class Settings:
    """What every group needs to know about this run."""

    workdir: Path
    seconds: float
    server_core: str
    load_core: str
    registry: tuple[str, str, str]  # tracking URI, model name, alias: what Decide follows
    model: ModelSource | str  # the peers' model, or why there is none
    rules_path: Path
    check_source: bool
    mlserver_venv: Path

    def require_model(self) -> ModelSource:
        if isinstance(self.model, str):
            raise RuntimeError(self.model)
        return self.model


@dataclass(frozen=True)
class Running:
    """A started group: its server, its cases, and the core the load generator may use."""

    server: Server
    cases: list[Case]
    load_core: str | None


@dataclass(frozen=True)
class Group:
    name: str
    cases: tuple[tuple[str, str], ...]
    start: Callable[[Settings], AbstractContextManager[Running]]


@contextmanager
def _ceiling(s: Settings) -> Iterator[Running]:
    port_file = s.workdir / "ceiling.port"
    command = [sys.executable, str(REPO / "bench" / "ceiling_server.py"), "--port-file", str(port_file)]
    with running("ceiling", command, log_dir=s.workdir, core=s.server_core, port_file=port_file) as server:
        request = load_request("decide_model")
        body = body_file(s.workdir, "ceiling", request.SerializeToString())
        target = Target(f"http://127.0.0.1:{server.port}{SERVICE}/Decide", body, GRPC_HEADERS)
        check = decide_check(server.port, request, None)
        yield Running(server, [Case("ceiling", CEILING_LABEL, target, check)], s.load_core)


def _decide(processes: int, shared_state: bool = False) -> Callable[[Settings], AbstractContextManager[Running]]:
    """The decision service with `processes` processes; with `shared_state`, its bandit
    statistics and live profiles in a real redis-server (started here, on the load core)."""

    @contextmanager
    def start(s: Settings) -> Iterator[Running]:
        with ExitStack() as stack:
            extra: dict[str, object] = {}
            if shared_state:
                redis_port = free_port()
                redis_command = ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", ""]
                stack.enter_context(
                    running("redis", redis_command, log_dir=s.workdir, core=s.load_core, port=redis_port)
                )
                extra["shared-state-url"] = f"redis://127.0.0.1:{redis_port}/0"
            yield stack.enter_context(_decide_server(s, processes, extra))

    return start


@contextmanager
def _decide_server(s: Settings, processes: int, extra: dict[str, object]) -> Iterator[Running]:
    tracking_uri, model_name, model_alias = s.registry
    name = f"decide-{processes}proc" + ("-redis" if extra else "")
    port_file = s.workdir / f"{name}.port"
    metrics_port = metrics_ports(processes)  # process i serves /metrics on this + i
    flags = {
        "listen": "127.0.0.1:0",
        "port-file": port_file,
        "rules-path": s.rules_path,
        "tracking-uri": tracking_uri,
        "model-name": model_name,
        "model-alias": model_alias,
        "processes": processes,
        "metrics-port": metrics_port,
        "decision-log-path": s.workdir / f"{name}-decisions.jsonl",
        "outcome-log-path": s.workdir / f"{name}-outcomes.jsonl",
        **extra,
    }
    (s.workdir / f"{name}-decisions.jsonl").unlink(missing_ok=True)  # this run's decisions only
    command = [sys.executable, "-m", "decision", "serve"]
    for flag, value in flags.items():
        command += [f"--{flag}", str(value)]
    # Several processes are not confined to --server-core: they pin themselves one per
    # CPU, and h2load, unpinned, shares the cores with them.
    pinned = processes == 1
    core = s.server_core if pinned else None
    # cwd: the service finds its catalog and profile snapshot under var/ like `make run`.
    with running(
        name, command, log_dir=s.workdir, core=core, port_file=port_file, env={"PYTHONPATH": str(REPO)}, cwd=REPO
    ) as server:
        cases = decide_cases(server.port, s.workdir, batch=pinned and not extra, check_source=s.check_source)
        if s.check_source:  # a real model is expected: measure it as the service settles
            await_native_scorer(metrics_port, processes, server.log)
        if not pinned:
            label = cases[1].label.replace("model path", f"model path, --processes {processes}")
            cases = [replace(cases[1], name="decide_model_2proc", label=label, shape=SPREAD_GRPC_SHAPE)]
        elif extra:
            label = cases[1].label.replace("model path", "model path, state in Redis")
            cases = [replace(cases[1], name="decide_model_redis", label=label)]
        yield Running(server, cases, s.load_core if pinned else None)


@contextmanager
def _mlflow(s: Settings) -> Iterator[Running]:
    model = s.require_model()
    port = free_port()
    command = peers.mlflow_command(model, port)
    # mlflow execs `uvicorn` by name: put this interpreter's scripts first on PATH.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {"MLFLOW_TRACKING_URI": model.tracking_uri, "PATH": path}
    with running(
        "mlflow-serve",
        command,
        log_dir=s.workdir,
        core=s.server_core,
        port=port,
        ready=http_ready("/ping"),
        env=env,
        timeout_s=180,
    ) as server:
        body = s.workdir / "mlflow.json"
        body.write_text(json.dumps(model.mlflow_payload))
        url = f"http://127.0.0.1:{port}/invocations"
        target = Target(url, body, JSON_HEADERS, http1=True)
        yield Running(
            server,
            [
                Case(
                    "mlflow_serve",
                    "mlflow models serve",
                    target,
                    lambda: peers.post_json(url, body.read_bytes()),
                )
            ],
            s.load_core,
        )


@contextmanager
def _mlserver(s: Settings) -> Iterator[Running]:
    model = s.require_model()
    python = peers.ensure_mlserver_venv(s.mlserver_venv)
    http_port, grpc_port, metrics_port = free_port(), free_port(), free_port()
    repository = peers.mlserver_repository(model, s.workdir / "mlserver-repo", (http_port, grpc_port, metrics_port))
    ready = http_ready(f"/v2/models/{peers.MLSERVER_MODEL}/ready")
    with running(
        "mlserver",
        peers.mlserver_command(python, repository),
        log_dir=s.workdir,
        core=s.server_core,
        port=http_port,
        ready=ready,
        timeout_s=180,
    ) as server:
        rest_url = f"http://127.0.0.1:{http_port}/v2/models/{peers.MLSERVER_MODEL}/infer"
        rest_body = s.workdir / "mlserver.json"
        rest_body.write_bytes(peers.mlserver_rest_body(model))
        grpc_body = s.workdir / "mlserver.grpc"
        peers.mlserver_grpc(python, model, "body", ["--out", str(grpc_body)])
        grpc_url = f"http://127.0.0.1:{grpc_port}/inference.GRPCInferenceService/ModelInfer"

        def grpc_check() -> int:
            reply = json.loads(peers.mlserver_grpc(python, model, "check", ["--port", str(grpc_port)]))
            return int(reply["bytes"]) + 5

        cases = [
            Case(
                "mlserver_rest",
                "MLServer REST (V2)",
                Target(rest_url, rest_body, JSON_HEADERS, http1=True),
                lambda: peers.post_json(rest_url, rest_body.read_bytes()),
            ),
            Case(
                "mlserver_grpc",
                "MLServer gRPC (V2)",
                Target(grpc_url, grpc_body, GRPC_HEADERS),
                grpc_check,
            ),
        ]
        yield Running(server, cases, s.load_core)


GROUPS = (
    Group("ceiling", (("ceiling", CEILING_LABEL),), _ceiling),
    Group(
        "decide",
        (
            ("decide_rule", "Decide, rule path"),
            ("decide_model", "Decide, model path"),
            ("report_outcome", "ReportOutcome"),
            ("record_events", "RecordEvents"),
            ("decide_batch", "DecideBatch x64, model path"),
        ),
        _decide(1),
    ),
    Group("decide2", (("decide_model_2proc", "Decide, model path, --processes 2"),), _decide(2)),
    Group(
        "decide-redis",
        (("decide_model_redis", "Decide, model path, state in Redis"),),
        _decide(1, shared_state=True),
    ),
    Group("mlflow", (("mlflow_serve", "mlflow models serve"),), _mlflow),
    Group(
        "mlserver",
        (("mlserver_rest", "MLServer REST (V2)"), ("mlserver_grpc", "MLServer gRPC (V2)")),
        _mlserver,
    ),
)
