"""Run the `tests:` blocks of rule files: the same runner for `rules test`, the store and pytest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from decision.conditions import cases
from decision.domain import Request
from decision.tiers.rules.active import ActiveRuleset
from decision.tiers.rules.compiled import Case
from decision.tiers.rules.outcome import RuleOutcome
from decision.tiers.rules.schema import CaseModel


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: Case
    passed: bool
    why: str

    def line(self) -> str:
        mark = "PASS" if self.passed else "FAIL"
        return f"{mark} {self.case.case_id}" + ("" if self.passed else f": {self.why}")


def case_now(spec: CaseModel) -> datetime:
    """The server time a case runs at (naive times are UTC; default 2026-01-15T12:00Z)."""
    return cases.case_now(spec.now)


def to_request(spec: CaseModel) -> Request:
    """The domain Request a case describes."""
    return cases.to_request(spec.request, case_now(spec), spec.name)


def check(spec: CaseModel, outcome: RuleOutcome) -> str:
    """Empty when `outcome` meets the expectation, else why not."""
    expect, problems = spec.expect, []
    if "rule" in expect.model_fields_set and expect.rule != outcome.rule_id:
        problems.append(f"expected rule {expect.rule or 'none'}, got {outcome.rule_id or 'none'}")
    if expect.content is not None and list(outcome.content_ids) != expect.content:
        problems.append(f"expected content {expect.content}, got {list(outcome.content_ids)}")
    if expect.parameters is not None and dict(outcome.parameters) != expect.parameters:
        problems.append(f"expected parameters {expect.parameters}, got {dict(outcome.parameters)}")
    return "; ".join(problems)


def run_case(active: ActiveRuleset, case: Case) -> CaseResult:
    user = case.spec.request.user
    segment = user.as_segment() if user is not None else None
    outcome = active.evaluate(to_request(case.spec), case_now(case.spec), lambda: segment)
    why = check(case.spec, outcome)
    return CaseResult(case, not why, why)


def run_all(active: ActiveRuleset) -> list[CaseResult]:
    return [run_case(active, case) for case in active.compiled.cases]


def summary(results: list[CaseResult]) -> str:
    passed = sum(r.passed for r in results)
    return f"{'PASS' if passed == len(results) else 'FAIL'} {passed}/{len(results)}"
