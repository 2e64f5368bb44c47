"""Profile the decision service under load: py-spy samples a pinned server while h2load drives it.

    python bench/profile.py --case decide_model --seconds 10

Starts `decision serve` as `make bench` does (pinned to --server-core, h2load on --load-core),
checks that the answers come from the expected tier, samples the server with py-spy for
--seconds of closed-loop load, and writes <out>/profile-<case>.txt (where the samples fall:
our code vs gRPC's machinery, then the functions with the most samples inside Decide, self and
inclusive) and <out>/profile-<case>.collapsed (every stack, for speedscope.app or
flamegraph.pl). py-spy needs ptrace rights: run as root, or with CAP_SYS_PTRACE in a container.

Reading it: py-spy samples the thread that last held the GIL. When every thread is waiting
(on a lock, the network, gRPC's C core), that thread's last line keeps collecting samples,
so a `with lock:` line can look hot without being the cost. Confirm a suspect with an A/B
run of `bench/run.py` before changing code for it (this one sent us chasing the Prometheus
counters' mutex, which an A/B showed costs nothing measurable).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.groups import GROUPS, Settings
from bench.load import ensure_h2load, run_h2load
from bench.measure import GRPC_SHAPE

REPO = Path(__file__).resolve().parent.parent
HANDLER = "DecisionServicer."  # frames of our gRPC handler: everything below it is a decision
_LOCATION = re.compile(r" \((.*?):\d+\)")  # "fn (file.py:12)" -> "fn (file.py)": lines merged


@dataclass(frozen=True)
class Summary:
    """Where the samples of one profile fall."""

    total: int
    in_handler: int
    inclusive: list[tuple[str, int]]
    self_time: list[tuple[str, int]]

    def text(self, top: int) -> str:
        def share(count: int, of: int) -> str:
            return f"{100 * count / of:5.1f}%" if of else "  n/a"

        lines = [
            f"{self.total} samples of the thread holding the GIL; {share(self.in_handler, self.total)} "
            "inside the Decide handler, the rest in gRPC's Python machinery and background threads",
            "",
            f"inclusive, % of the samples inside Decide (top {top}):",
            *(f"  {share(n, self.in_handler)}  {name}" for name, n in self.inclusive[:top]),
            "",
            f"self, % of the samples inside Decide (top {top}):",
            *(f"  {share(n, self.in_handler)}  {name}" for name, n in self.self_time[:top]),
        ]
        return "\n".join(lines) + "\n"


def summarize(collapsed: Iterable[str]) -> Summary:
    """Summarize py-spy's raw output: one `frame;frame;...;leaf COUNT` line per stack."""
    total = in_handler = 0
    inclusive: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    for line in collapsed:
        stack, _, count_text = line.rstrip("\n").rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        start = next((i for i, frame in enumerate(frames) if frame.startswith(HANDLER)), None)
        if start is None:
            continue
        in_handler += count
        for name in {_LOCATION.sub(r" (\1)", frame) for frame in frames[start:]}:
            inclusive[name] += count
        self_time[frames[-1]] += count
    return Summary(total, in_handler, inclusive.most_common(), self_time.most_common())


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--case", choices=("decide_rule", "decide_model", "decide_batch"), default="decide_model")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of load while sampling")
    parser.add_argument("--rate", type=int, default=500, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=30, help="functions listed in the summary")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results", help="output folder")
    parser.add_argument("--tracking-uri", default=f"sqlite:///{REPO / 'var' / 'mlflow' / 'mlflow.db'}")
    parser.add_argument("--rules-path", type=Path, default=REPO / "rules")
    parser.add_argument("--server-core", default="1", help="CPU the server is pinned to")
    parser.add_argument("--load-core", default="0", help="CPU h2load is pinned to")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        sys.exit("py-spy is missing: install the bench extra (pip install -e '.[bench]')")
    ensure_h2load()
    workdir = args.out / "run"
    workdir.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        workdir,
        args.seconds,
        args.server_core,
        args.load_core,
        (args.tracking_uri, "next_best_content", "champion"),
        "not needed: no peer is profiled",
        args.rules_path.resolve(),
        True,
        REPO / "bench" / ".venv-mlserver",
    )
    decide = next(group for group in GROUPS if group.name == "decide")
    collapsed = args.out / f"profile-{args.case}.collapsed"
    with decide.start(settings) as started:
        case = next(c for c in started.cases if c.name == args.case)
        case.check()  # the answer comes from the expected tier (raises otherwise)
        print(f"sampling {case.label} for {args.seconds:.0f} s at {args.rate} Hz")
        spy = [py_spy, "record", "--pid", str(started.server.process.pid), "--rate", str(args.rate)]
        spy += ["--duration", str(round(args.seconds)), "--format", "raw", "--output", str(collapsed)]
        # --gil: only the thread holding the GIL, i.e. where the one pinned core runs Python
        # (threads waiting on a lock or a condition are not work); --nonblocking: never pause
        # the server, the profile is of it under load.
        spy += ["--gil", "--nonblocking"]
        recorder = threading.Thread(target=_record, args=(spy,))
        recorder.start()
        clients, streams = GRPC_SHAPE.closed
        run_h2load(case.target, seconds=args.seconds, clients=clients, streams=streams, core=args.load_core)
        recorder.join()
    with collapsed.open() as lines:
        text = summarize(lines).text(args.top)
    report = args.out / f"profile-{args.case}.txt"
    report.write_text(text)
    print(text + f"\nwrote {report} and {collapsed} (open it in speedscope.app)")
    return 0


def _record(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    if done.returncode != 0:
        print(
            f"py-spy failed ({done.returncode}): {done.stderr.strip()[-300:]}\n"
            "it needs ptrace rights: run as root, or add CAP_SYS_PTRACE to the container",
            file=sys.stderr,
        )


if __name__ == "__main__":
    sys.exit(main())
