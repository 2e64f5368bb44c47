"""Run the `tests:` blocks of experiment files: the same runner for `experiments test`, the store and pytest.

A case is a request (and optionally the user's segment and the time) with the experiment and
arm it must get; `experiment: null` asserts that no experiment takes it. A set whose own
cases fail is never activated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from decision.conditions import cases
from decision.conditions.errors import SpecFileError
from decision.domain import Segment
from decision.pipeline.context import RequestContext, Sources
from decision.sources.catalog import Catalog
from decision.sources.features import Profile
from decision.tiers.experiments.assign import assign
from decision.tiers.experiments.compiled import Case, ExperimentSet
from decision.tiers.experiments.compiler import compile_path


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: Case
    passed: bool
    why: str

    def line(self) -> str:
        mark = "PASS" if self.passed else "FAIL"
        return f"{mark} {self.case.case_id}" + ("" if self.passed else f": {self.why}")


class _NoCatalog:
    current: Catalog | None = None


class _NoProfiles:
    def get(self, user_id: str) -> Profile | None:
        return None


class _FixedSegment:
    def __init__(self, segment: Segment | None) -> None:
        self._segment = segment

    def assign(self, profile: Profile | None, now: datetime) -> Segment | None:
        return self._segment


def context_for(case: Case) -> RequestContext:
    """The request context a case describes (its `user`, if given, stands in for a segment model)."""
    spec = case.spec
    now = cases.case_now(spec.now)
    request = cases.to_request(spec.request, now, spec.name)
    user = spec.request.user
    sources = Sources(_NoCatalog(), _NoProfiles(), _FixedSegment(user.as_segment() if user is not None else None))
    return RequestContext(request, now, None, 1, sources)


def run_case(experiments: ExperimentSet, case: Case) -> CaseResult:
    found = assign(experiments, context_for(case))
    expect = case.spec.expect
    got_experiment = found.experiment.id if found else None
    problems = []
    if "experiment" in expect.model_fields_set and expect.experiment != got_experiment:
        problems.append(f"expected experiment {expect.experiment or 'none'}, got {got_experiment or 'none'}")
    got_arm = found.arm.id if found else None
    if expect.arm is not None and expect.arm != got_arm:
        problems.append(f"expected arm {expect.arm}, got {got_arm or 'none'}")
    why = "; ".join(problems)
    return CaseResult(case, not why, why)


def run_all(experiments: ExperimentSet) -> list[CaseResult]:
    return [run_case(experiments, case) for case in experiments.cases]


def compile_and_test(path: Path) -> ExperimentSet:
    """Compile the set at `path` and run its own cases; any failure refuses the version."""
    experiments = compile_path(path)
    failures = [r for r in run_all(experiments) if not r.passed]
    if failures:
        raise SpecFileError.collect(
            [
                SpecFileError(r.case.file, r.case.line, None, f"test '{r.case.spec.name}' failed: {r.why}")
                for r in failures
            ]
        )
    return experiments
